"""The five-word-password survey benchmark (Wu et al., ACSAC 2022; data read from a local clone)."""
