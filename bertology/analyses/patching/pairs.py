"""Minimal pairs for activation patching: from the shipped cloze suites or given directly."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bertology.core.data.cloze_suites import load_suite
from bertology.core.errors import InputError

logger = logging.getLogger(__name__)



@dataclass(frozen=True)
class MinimalPair:
    """A base sentence and its counterfactual, and what the metric reads.

    Attributes
    ----------
    id
        Name of the pair in tables and errors.
    base, counterfactual
        The two sentences; with a masked LM each holds one ``[MASK]``.
    candidates
        With a masked LM, the words whose log-probabilities at the mask the metric
        compares: ``(a, b)`` gives ``log P(a) − log P(b)``, ``(a,)`` gives ``log P(a)``;
        empty for a classifier.
    condition
        Group label (the suite's condition).
    """

    id: str
    base: str
    counterfactual: str
    candidates: tuple[str, ...] = ()
    condition: str = "all"


MAX_DIFFERENT_WORDS = 3


def _different_words(a: str, b: str) -> int | None:
    left, right = a.split(), b.split()
    return sum(x != y for x, y in zip(left, right)) if len(left) == len(right) else None


def _choice_pairs(items: list[dict], suite: str) -> list[MinimalPair]:
    """Pair items of one condition and candidate set whose correct answers differ and templates differ least."""
    used: set[int] = set()
    pairs = []
    for index, item in enumerate(items):
        if index in used:
            continue
        best, best_count = None, MAX_DIFFERENT_WORDS + 1
        for other in range(index + 1, len(items)):
            candidate = items[other]
            if (other in used or candidate["correct"] == item["correct"] or candidate["condition"] != item["condition"]
                    or set(candidate["candidates"]) != set(item["candidates"])):
                continue
            count = _different_words(item["template"], candidate["template"])
            if count is not None and 0 < count < best_count:
                best, best_count = other, count
        if best is not None:
            other = items[best]
            used.update((index, best))
            pairs.append(MinimalPair(f"{item['id']}/{other['id']}", item["template"], other["template"],
                                     (item["correct"], other["correct"]), item["condition"]))
    if not pairs:
        raise InputError(f"Suite {suite!r}: no two items of one condition differ in at most {MAX_DIFFERENT_WORDS} words "
                         "(same word count) with different correct answers, so there is no minimal pair to patch.")
    return pairs


def suite_pairs(suite: str | Path) -> list[MinimalPair]:
    """The minimal pairs of a cloze suite.

    Choice suites (``agreement``, ``pronoun``, or a JSONL file with ``id``, ``template``,
    ``candidates``, ``correct``, ``condition``): an item is paired with the later item of
    the same condition and candidate set, with a different correct answer, whose template
    has as many whitespace-separated words and differs from it in the fewest of them (at
    most three): ``The boy [MASK] here.`` / ``The boys [MASK] here.``. Each item joins at
    most one pair, in file order; items without a partner are left out. The metric compares
    the base's correct answer with the counterfactual's. Bias suites (``gender-occupation``: ``template`` with ``{target}``,
    ``targets``, ``attribute``): each item is a pair, the template filled with the first
    and with the second target; the metric is the attribute's log-probability at the mask.

    Parameters
    ----------
    suite
        ``"agreement"``, ``"gender-occupation"``, ``"pronoun"`` or a JSONL file in one of the schemas.

    Returns
    -------
    list of MinimalPair

    Raises
    ------
    InputError
        An unknown name, an unreadable file, an item missing a field or not holding one
        ``[MASK]``, or a suite without any minimal pair.

    Examples
    --------
    >>> pairs = suite_pairs("agreement")
    >>> pairs[0].base, pairs[0].counterfactual, pairs[0].candidates
    ('The boy [MASK] here.', 'The boys [MASK] here.', ('is', 'are'))
    >>> suite_pairs("gender-occupation")[0].candidates
    ('nurse',)
    """
    name, kind, items = load_suite(suite)
    if kind == "bias":
        return [MinimalPair(item["id"], *(item["template"].replace("{target}", t) for t in item["targets"]),
                            (item["attribute"],), item["condition"]) for item in items]
    return _choice_pairs(items, name)


def as_pairs(pairs: Sequence[MinimalPair | Sequence]) -> list[MinimalPair]:
    """A user's pairs as :class:`MinimalPair` objects.

    Parameters
    ----------
    pairs
        :class:`MinimalPair` objects, or tuples ``(base, counterfactual)`` (a classifier)
        or ``(base, counterfactual, candidates)`` (a masked LM; ``candidates`` one word or two).

    Returns
    -------
    list of MinimalPair
        Tuples are named ``pair-0``, ``pair-1``...

    Raises
    ------
    InputError
        An empty list or a malformed entry.

    Examples
    --------
    >>> as_pairs([("The boy [MASK] here.", "The boys [MASK] here.", ("is", "are"))])[0].id
    'pair-0'
    """
    if isinstance(pairs, (str, MinimalPair)) or not len(pairs):
        raise InputError("pairs must be a non-empty list of (base, counterfactual[, candidates]) tuples.")
    result = []
    for index, entry in enumerate(pairs):
        if isinstance(entry, MinimalPair):
            result.append(entry)
            continue
        if isinstance(entry, str) or len(entry) not in (2, 3) or not all(isinstance(s, str) for s in entry[:2]):
            raise InputError(f"Pair {index} is {entry!r}: give (base, counterfactual) or "
                             "(base, counterfactual, candidates) with sentences as strings.")
        candidates = tuple([entry[2]] if len(entry) == 3 and isinstance(entry[2], str) else
                           (entry[2] if len(entry) == 3 else ()))
        if len(candidates) > 2 or not all(isinstance(c, str) and c.strip() for c in candidates):
            raise InputError(f"Pair {index}: candidates {entry[2]!r} must be one or two words.")
        result.append(MinimalPair(f"pair-{index}", entry[0], entry[1], candidates))
    ids = [pair.id for pair in result]
    if len(set(ids)) != len(ids):
        raise InputError("Pair ids must be unique.")
    return result
