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

import json
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bertology.analyses.cloze.names import SUITES
from bertology.analyses.cloze.result import ClozeResult, summarise
from bertology.analyses.cloze.scorer import MaskedLMScorer, as_scorer
from bertology.core.errors import InputError
from bertology.core.models import LoadedModel

ALIASES = {"colour": "color", "gender": "gender-occupation", "bias": "gender-occupation"}
SCHEMAS = {
    "choice": {"id": str, "template": str, "candidates": list, "correct": str, "condition": str},
    "bias": {"id": str, "template": str, "targets": list, "attribute": str, "condition": str},
}
_MASK = re.compile(r"\[MASK\]|\{mask\}")


def suite_path(name: str) -> Path:
    """Path of a shipped suite file.

    Parameters
    ----------
    name
        One of :data:`SUITES` (or an alias such as ``"colour"``).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        Unknown suite name.

    Examples
    --------
    >>> suite_path("agreement").name
    'agreement.jsonl'
    """
    canonical = ALIASES.get(name, name)
    if canonical not in SUITES:
        raise InputError(f"Unknown suite {name!r}: choose one of {sorted(SUITES)} or pass a path to a JSONL file.")
    return Path(str(resources.files("bertology") / "core" / "data" / "suites" / f"{canonical}.jsonl"))


def validate_item(item: Any, kind: str, where: str = "item") -> None:
    """Check one suite item against its schema.

    Parameters
    ----------
    item
        The parsed JSON object.
    kind
        ``"choice"`` or ``"bias"``.
    where
        Names the item in the error (file and line).

    Raises
    ------
    InputError
        A missing or extra field, a wrong type, no or several masks, a correct answer
        not among the candidates...

    Examples
    --------
    >>> validate_item({"id": "1", "template": "The boys [MASK] shy.", "candidates": ["are", "is"],
    ...                "correct": "are", "condition": "simple"}, "choice")
    """
    schema = SCHEMAS[kind]
    if not isinstance(item, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(item).__name__}.")
    missing = [key for key in schema if key not in item]
    extra = [key for key in item if key not in schema and key != "metadata"]
    if missing or extra:
        raise InputError(f"{where}: {kind} items need fields {sorted(schema)} (+ optional metadata); "
                         f"missing {missing}, unexpected {extra}.")
    for key, expected in schema.items():
        if not isinstance(item[key], expected) or (expected is str and not item[key].strip()):
            raise InputError(f"{where}: field {key!r} must be a non-empty {expected.__name__}, got {item[key]!r}.")
    if not isinstance(item.get("metadata", {}), dict):
        raise InputError(f"{where}: metadata must be an object.")
    if len(_MASK.findall(item["template"])) != 1:
        raise InputError(f"{where}: template {item['template']!r} must hold exactly one [MASK].")
    words = item["candidates"] if kind == "choice" else item["targets"]
    if (len(words) < 2 or len(set(words)) != len(words)
            or not all(isinstance(w, str) and w.strip() for w in words)):
        raise InputError(f"{where}: needs at least two distinct non-empty words, got {words!r}.")
    if kind == "choice" and item["correct"] not in words:
        raise InputError(f"{where}: correct answer {item['correct']!r} is not among the candidates {words}.")
    if kind == "bias" and (len(words) != 2 or item["template"].count("{target}") != 1):
        raise InputError(f"{where}: bias items need exactly two targets and one {{target}} slot in the template.")


def load_suite(name_or_path: str | Path) -> tuple[str, str, list[dict[str, Any]]]:
    """Read and validate a suite.

    Parameters
    ----------
    name_or_path
        A shipped suite name (see :data:`SUITES`) or a JSONL file in one of the two schemas.

    Returns
    -------
    tuple
        ``(name, kind, items)``.

    Raises
    ------
    InputError
        Unknown name, missing file, bad JSON, or an item that breaks the schema (file and line named).

    Examples
    --------
    >>> name, kind, items = load_suite("telicity")
    >>> kind, items[0]["candidates"]
    ('choice', ['in', 'for'])
    """
    text = str(name_or_path)
    is_name = ALIASES.get(text, text) in SUITES
    path = suite_path(text) if is_name else Path(text)
    if not path.is_file():
        raise InputError(f"Suite {text!r} is neither a shipped suite {sorted(SUITES)} nor an existing JSONL file.")
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                records.append((number, json.loads(line)))
            except json.JSONDecodeError as error:
                raise InputError(f"{path}:{number}: not valid JSON ({error.msg}).") from None
    if not records:
        raise InputError(f"{path} holds no items.")
    name = ALIASES.get(text, text) if is_name else path.stem
    kind = SUITES.get(name) or ("bias" if isinstance(records[0][1], dict) and "targets" in records[0][1] else "choice")
    for number, item in records:
        validate_item(item, kind, f"{path}:{number}")
    ids = [item["id"] for _, item in records]
    if len(set(ids)) != len(ids):
        raise InputError(f"{path}: item ids must be unique.")
    return name, kind, [item for _, item in records]


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
                    (_MASK.search(template).start(), _MASK.search(template).group(), attribute)])
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
