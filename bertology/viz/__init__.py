"""The shared paper style for figures."""

from bertology.viz.style import PALETTE, new_figure, paper_style, save_figure

__all__ = ["PALETTE", "new_figure", "paper_style", "save_figure"]
