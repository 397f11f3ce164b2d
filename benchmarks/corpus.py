"""Deterministic SST-2-style review sentences for benchmarks (varied length, real vocabulary)."""

from __future__ import annotations

import random

_OPENERS = ["the film", "this movie", "the plot", "its cast", "the director's latest effort", "the script",
            "the soundtrack", "the final act", "every scene", "the lead performance"]
_VERBS = ["is", "feels", "remains", "turns out to be", "was", "seems"]
_ADJECTIVES = ["a delight", "painfully dull", "surprisingly moving", "a mess", "sharp and funny", "overlong",
               "beautifully shot", "forgettable", "a triumph", "clumsy", "warm", "tedious", "clever", "hollow"]
_TAILS = ["from start to finish", "despite a shaky opening", "even when the jokes fall flat",
          "thanks to a committed ensemble", "though nobody seems to care", "and the audience knows it",
          "in ways that linger long after the credits", "with a wit that rarely lets up",
          "for reasons the screenplay never explains", "as the story drifts toward its predictable end"]


def review_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` review-like sentences of 5 to about 45 words.

    Examples
    --------
    >>> len(review_sentences(3))
    3
    """
    rng = random.Random(seed)
    sentences = []
    for _ in range(n):
        parts = [rng.choice(_OPENERS), rng.choice(_VERBS), rng.choice(_ADJECTIVES)]
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            parts.append(rng.choice(_TAILS))
        sentences.append(" ".join(parts).capitalize() + rng.choice([".", "!", " ."]))
    return sentences
