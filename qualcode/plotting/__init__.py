"""Plots of matrices: each function takes a DataFrame and returns a matplotlib Figure."""

from ._plots import attribute_bars, cooccurrence_heatmap, heatmap, saturation_curve, timeline

__all__ = ["attribute_bars", "cooccurrence_heatmap", "heatmap", "saturation_curve", "timeline"]
