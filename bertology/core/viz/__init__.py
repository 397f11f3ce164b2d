"""The shared paper style for figures."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'style': ['PALETTE', 'new_figure', 'paper_style', 'save_figure'],
    },
)
