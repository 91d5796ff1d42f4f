"""The qabstracts-dev accuracy benchmark (data: ../shared/data/qabstracts-dev, CC-BY-4.0)."""
