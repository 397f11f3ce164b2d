"""The random-encoder control (shared with other analyses from :mod:`bertology.core.models.random_encoder`)."""

from __future__ import annotations

from bertology.core.models.random_encoder import random_encoder

__all__ = ["random_encoder"]
