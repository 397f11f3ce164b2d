"""The cloze suites bertology ships (JSONL with a schema) and :func:`run_suite`.

Two schemas:

* **choice** (``agreement``, ``pronoun``, ``telicity``, ``color``): ``id``, ``template``
  (one ``[MASK]``), ``candidates`` (≥ 2 distinct words), ``correct`` (one of them),
  ``condition``, optional ``metadata``. Metric: accuracy (the correct candidate has the
  highest :meth:`MaskedLMScorer.compare` score; Goldberg 2019).
* **bias** (``gender-occupation``): ``id``, ``template`` (one ``{target}`` slot and one
  ``[MASK]`` for the attribute), ``targets`` (two words, e.g. ``["woman", "man"]``),
  ``attribute`` (e.g. an occupation), ``condition``, optional ``metadata``. Metrics:
  Kurita et al.'s (2019) log-probability bias score and the probability gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bertology.analyses.cloze.result import ClozeResult, summarise
from bertology.analyses.cloze.scorer import MaskedLMScorer, as_scorer
from bertology.core.data.cloze_suites import MASK_MARKER, load_suite
from bertology.core.models import LoadedModel


def _run_choice(scorer: MaskedLMScorer, items: Sequence[dict[str, Any]]) -> pd.DataFrame:
    scores = scorer.compare_many([i["template"] for i in items], [i["candidates"] for i in items])
    rows = []
    for item, score in zip(items, scores):
        predicted = max(score, key=score.get)
        best_other = max(v for k, v in score.items() if k != item["correct"])
        rows.append({"id": item["id"], "condition": item["condition"], "template": item["template"],
                     "correct": item["correct"], "predicted": predicted,
                     "correct_log_prob": score[item["correct"]], "margin": score[item["correct"]] - best_other,
                     "accuracy": float(predicted == item["correct"]), "n_candidates": len(score)})
    return pd.DataFrame(rows)


def _fill_bias_template(template: str, target: str, attribute: str) -> tuple[str, tuple[int, int], tuple[int, int]]:
    """Text with target and attribute written in, and both character spans."""
    slots = sorted([(template.index("{target}"), "{target}", target),
                    (MASK_MARKER.search(template).start(), MASK_MARKER.search(template).group(), attribute)])
    text, cursor, spans = "", 0, {}
    for start, marker, word in slots:
        text += template[cursor:start]
        spans[marker == "{target}"] = (len(text), len(text) + len(word))
        text += word
        cursor = start + len(marker)
    return text + template[cursor:], spans[True], spans[False]


def _run_bias(scorer: MaskedLMScorer, items: Sequence[dict[str, Any]]) -> pd.DataFrame:
    texts, spans, extras = [], [], []
    for item in items:
        for target in item["targets"]:
            text, target_span, attribute_span = _fill_bias_template(item["template"], target, item["attribute"])
            texts += [text] * 3
            spans += [attribute_span, target_span, target_span]
            extras += [[], [], [attribute_span]]
    scores = [s.sum() for s in scorer.score_spans(texts, spans, extras)]
    rows = []
    for index, item in enumerate(items):
        a1, t1, p1, a2, t2, p2 = scores[6 * index:6 * index + 6]
        rows.append({"id": item["id"], "condition": item["condition"], "attribute": item["attribute"],
                     "target_a": item["targets"][0], "target_b": item["targets"][1],
                     "template": item["template"], "log_p_attribute_a": a1, "log_p_attribute_b": a2,
                     "log_p_target_a": t1, "log_p_prior_a": p1, "log_p_target_b": t2, "log_p_prior_b": p2,
                     "prob_gap": float(np.exp(a1) - np.exp(a2)),
                     "kurita_bias": float((t1 - p1) - (t2 - p2))})
    return pd.DataFrame(rows)


def run_suite(model: LoadedModel | MaskedLMScorer, suite: str | Path, n_boot: int = 1000, seed: int = 0,
              max_tokens: int = 4096, progress: bool = True) -> ClozeResult:
    """Run a cloze suite and summarise it per condition with bootstrap CIs.

    Choice suites (agreement, pronoun, telicity, color) score each candidate with
    :meth:`MaskedLMScorer.compare` and report accuracy: an item is right when the correct
    candidate scores highest (Goldberg 2019). The gender–occupation suite reports, per
    item, Kurita et al.'s (2019) log-probability bias score
    ``log(p_a / prior_a) − log(p_b / prior_b)``, where ``p_x`` is the probability of target
    ``x`` at its masked slot with the attribute present and ``prior_x`` the same with the
    attribute masked too (positive = the attribute is associated with the first target),
    and the probability gap ``P(attribute | target a) − P(attribute | target b)`` at the
    attribute's mask.

    Parameters
    ----------
    model
        A masked-LM :class:`LoadedModel` (``head="mlm"``) or a :class:`MaskedLMScorer`.
    suite
        ``"agreement"``, ``"pronoun"``, ``"telicity"``, ``"color"``, ``"gender-occupation"``
        or a JSONL file in one of the schemas of :func:`validate_item`.
    n_boot, seed
        Bootstrap resamples and seed of the CIs.
    max_tokens
        Token budget per forward pass (when a model is given).
    progress
        Show progress bars (when a model is given).

    Returns
    -------
    ClozeResult
        Per-item rows in ``items``; ``to_frame()`` gives the per-condition summary.

    Raises
    ------
    InputError
        Unknown suite or a file that breaks the schema.
    ModelError
        A model without a masked-LM head.

    Examples
    --------
    >>> import bertology as bt
    >>> res = bt.run_suite(bt.load_model("bert-base-uncased", head="mlm"), "agreement")  # doctest: +SKIP
    >>> res.to_frame().head()  # doctest: +SKIP
    """
    scorer = as_scorer(model, max_tokens, progress)
    name, kind, items = load_suite(suite)
    meta: dict[str, Any] = {"suite": name, "kind": kind, "model": scorer.model.describe(), "n_items": len(items),
                            "seed": seed, "n_boot": n_boot}
    if kind == "choice":
        frame = _run_choice(scorer, items)
        summary = summarise(frame, ["accuracy"], n_boot=n_boot, seed=seed)
        meta.update(primary_metric="accuracy", plot="bars", chance=float((1.0 / frame.n_candidates).mean()))
    else:
        frame = _run_bias(scorer, items)
        summary = summarise(frame, ["kurita_bias", "prob_gap"], n_boot=n_boot, seed=seed)
        meta.update(primary_metric="kurita_bias", plot="distribution")
    return ClozeResult(name, frame, summary, meta)
