"""Exception types raised by bertology.

Every error bertology raises on bad input is a :class:`BertologyError`, and its message
names the problem and the fix.
"""

from __future__ import annotations


class BertologyError(Exception):
    """Base class of every error bertology raises on purpose."""


class InputError(BertologyError, ValueError):
    """The input (text, word index, template, config value...) cannot be used as given."""


class ModelError(BertologyError):
    """A model cannot be loaded, or lacks what the analysis needs (an MLM head, attention...)."""


class StoreError(BertologyError):
    """An on-disk store or run directory does not match what was requested."""
