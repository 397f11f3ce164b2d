"""Published masked-LM evaluation sets: CrowS-Pairs, StereoSet, BLiMP and agreement stimuli.

Each function reads the benchmark's real file (see :mod:`bertology.analyses.cloze.formats`), scores it
with a :class:`~bertology.analyses.cloze.scorer.MaskedLMScorer` in shared batches and returns a
:class:`~bertology.analyses.cloze.result.ClozeResult`.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from bertology.analyses.cloze.engine import MaskedCopy, score_copies
from bertology.analyses.cloze.formats import (
    MASK,
    read_agreement,
    read_blimp,
    read_crows_pairs,
    read_stereoset,
    stereoset_word,
)
from bertology.analyses.cloze.names import PLL_VARIANTS, STEREOSET_VARIANTS
from bertology.analyses.cloze.result import SUMMARY_COLUMNS, ClozeResult, summarise
from bertology.analyses.cloze.scorer import MaskedLMScorer, PLLVariant, as_scorer, covering_tokens
from bertology.core.errors import InputError
from bertology.core.models import LoadedModel

logger = logging.getLogger(__name__)

StereoSetVariant = Literal["official", "within_word_l2r"]

__all__ = ["agreement_stimuli", "blimp", "crows_pairs", "crows_pairs_scores", "shared_token_positions", "stereoset",
           "stereoset_scores"]


def _summaries(items: pd.DataFrame, metric: str, groups: Sequence[str], n_boot: int, seed: int) -> pd.DataFrame:
    """Overall row plus one block of rows per grouping column (the overall row kept once)."""
    parts = [summarise(items, [metric], group=column, n_boot=n_boot, seed=seed) for column in groups]
    return pd.concat([parts[0]] + [part[part.group != "all"] for part in parts[1:]], ignore_index=True)


def shared_token_positions(ids_a: Sequence[int], ids_b: Sequence[int]) -> tuple[list[int], list[int]]:
    """Positions of the tokens two sentences share, aligned with :class:`difflib.SequenceMatcher`.

    As in Nangia et al. (2020, ``get_span``): the ``equal`` blocks of the matcher over the
    two id sequences, without their first and last entries ([CLS] and [SEP]).

    Parameters
    ----------
    ids_a, ids_b
        Token ids of the two sentences, special tokens included.

    Returns
    -------
    tuple of list
        Matching positions in ``ids_a`` and in ``ids_b``.

    Examples
    --------
    >>> shared_token_positions([101, 7, 8, 9, 102], [101, 7, 5, 9, 102])
    ([1, 3], [1, 3])
    """
    matcher = difflib.SequenceMatcher(None, [str(x) for x in ids_a], [str(x) for x in ids_b])
    first, second = [], []
    for operation, a0, a1, b0, b1 in matcher.get_opcodes():
        if operation == "equal":
            first += list(range(a0, a1))
            second += list(range(b0, b1))
    return first[1:-1], second[1:-1]


def crows_pairs_scores(items: pd.DataFrame, n_boot: int = 1000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """CrowS-Pairs decisions and summary from per-sentence scores, as the authors' ``metric.py`` makes them.

    Both scores of a pair are rounded to 3 decimals; equal rounded scores make the pair
    *neutral*, otherwise it counts for the stereotype when ``sent_more`` scores higher
    (for ``stereo`` and ``antistereo`` rows alike). ``metric_score`` is the percentage of
    pairs that count, over all pairs (neutral ones included, as ``metric.py``'s "Metric
    score"); the ``stereo`` and ``antistereo`` groups leave neutral pairs out of the
    denominator, as its "Stereotype score" and "Anti-stereotype score" do (Nangia et al. 2020).

    Parameters
    ----------
    items
        One row per pair: ``sent_more_score``, ``sent_less_score``, ``stereo_antistereo``, ``bias_type``.
    n_boot, seed
        Bootstrap resamples and seed of the CIs.

    Returns
    -------
    tuple
        ``(items, summary)``: the items with ``metric_score`` (1 when the pair counts) and
        ``neutral`` (1 for a rounded tie) added; the summary has ``metric_score`` (percent)
        for ``all``, each bias type, ``stereo`` and ``antistereo``, and ``neutral`` (percent
        of pairs) for ``all`` and each bias type.

    Examples
    --------
    >>> frame = pd.DataFrame({"sent_more_score": [-10.0004, -3.0, -5.0], "sent_less_score": [-10.0001, -4.0, -4.0],
    ...                       "stereo_antistereo": ["stereo"] * 3, "bias_type": ["age"] * 3})
    >>> items, summary = crows_pairs_scores(frame, n_boot=10)
    >>> items.neutral.tolist(), float(summary.set_index(["group", "metric"]).value[("stereo", "metric_score")])
    ([1, 0, 0], 50.0)
    """
    items = items.copy()
    more = np.array([round(float(value), 3) for value in items.sent_more_score])
    less = np.array([round(float(value), 3) for value in items.sent_less_score])
    items["metric_score"] = (more > less).astype(float)
    items["neutral"] = (more == less).astype(int)
    overall = summarise(items, ["metric_score", "neutral"], group="bias_type", n_boot=n_boot, seed=seed, scale=100.0)
    decided = items.assign(metric_score=items.metric_score.where(items.neutral == 0))
    direction = summarise(decided, ["metric_score"], group="stereo_antistereo", n_boot=n_boot, seed=seed, scale=100.0)
    return items, pd.concat([overall, direction[direction.group != "all"]], ignore_index=True)


def crows_pairs(model: LoadedModel | MaskedLMScorer, path: str | Path, n_boot: int = 1000, seed: int = 0,
                max_tokens: int = 4096, progress: bool = True) -> ClozeResult:
    """CrowS-Pairs metric score (Nangia et al. 2020), overall, per bias type and per direction.

    Each sentence's score is ``Σ log P(token | sentence with only that token masked)`` over
    the tokens it shares with the other sentence of its pair, aligned with
    :func:`shared_token_positions` ([CLS]/[SEP] never scored). As in the authors'
    ``metric.py``, the more stereotypical sentence is aligned first on ``stereo`` rows and
    the less stereotypical one first on ``antistereo`` rows (the alignment depends on the
    order). Decisions, ties and the metric are those of :func:`crows_pairs_scores`
    (50 = no preference).

    Parameters
    ----------
    model
        A masked-LM model or scorer.
    path
        ``crows_pairs_anonymized.csv``.
    n_boot, seed
        Bootstrap resamples and seed of the CIs.
    max_tokens, progress
        Batching budget and progress bars (when a model is given).

    Returns
    -------
    ClozeResult
        Primary metric ``metric_score`` (percent); groups ``all``, each bias type, ``stereo``,
        ``antistereo``; ``meta["n_neutral"]`` counts the rounded ties. ``items`` keeps the
        unrounded sentence scores.

    Raises
    ------
    InputError
        A malformed file (see :func:`~bertology.analyses.cloze.formats.read_crows_pairs`).

    Examples
    --------
    >>> import bertology as bt
    >>> mlm = bt.load_model("bert-base-uncased", head="mlm")  # doctest: +SKIP
    >>> bt.crows_pairs(mlm, "crows_pairs_anonymized.csv").metric()  # doctest: +SKIP
    """
    scorer = as_scorer(model, max_tokens, progress)
    frame = read_crows_pairs(path)
    sequences, copies, owners = [], [], []
    for row in frame.itertuples():
        ids_more = scorer.encode(row.sent_more)["input_ids"]
        ids_less = scorer.encode(row.sent_less)["input_ids"]
        if row.stereo_antistereo == "stereo":
            shared_more, shared_less = shared_token_positions(ids_more, ids_less)
        else:
            shared_less, shared_more = shared_token_positions(ids_less, ids_more)
        for ids, shared in ((ids_more, shared_more), (ids_less, shared_less)):
            sequences.append(ids)
            copies += [MaskedCopy(len(sequences) - 1, (p,), p, ids[p]) for p in shared]
            owners += [len(sequences) - 1] * len(shared)
    scores, _, _ = score_copies(scorer.model, sequences, copies, scorer.max_tokens, progress=scorer.progress)
    totals = np.bincount(np.asarray(owners, dtype=np.int64), weights=scores, minlength=len(sequences))
    items = frame[["sent_more", "sent_less", "stereo_antistereo", "bias_type"]].copy()
    items["sent_more_score"], items["sent_less_score"] = totals[0::2], totals[1::2]
    items, summary = crows_pairs_scores(items, n_boot=n_boot, seed=seed)
    logger.info("CrowS-Pairs: %d pairs, metric score %.2f", len(items), summary.value.iloc[0])
    meta = {"benchmark": "crows-pairs", "source": str(path), "model": scorer.model.describe(),
            "primary_metric": "metric_score", "plot": "bars", "chance": 50.0,
            "tokenizer": scorer.tokenizer.name_or_path, "n_neutral": int(items.neutral.sum())}
    return ClozeResult("crows-pairs", items, summary, meta)


def _fill_span(context: str, sentence: str) -> tuple[int, int]:
    """Characters of ``sentence`` that fill the ``BLANK`` of ``context``."""
    prefix, suffix = context.split("BLANK", 1)
    if sentence.lower().startswith(prefix.lower()) and sentence.lower().endswith(suffix.lower()) \
            and len(sentence) > len(prefix) + len(suffix):
        return len(prefix), len(sentence) - len(suffix)
    words = context.split(" ")
    index = next(i for i, word in enumerate(words) if "BLANK" in word)
    start = len(" ".join(sentence.split(" ")[:index])) + (1 if index else 0)
    word = sentence.split(" ")[index]
    core = word.strip(".,!?;:\"'")
    start += word.find(core)
    return start, start + len(core)


def stereoset_scores(items: pd.DataFrame, group: str | None = None) -> pd.DataFrame:
    """StereoSet LMS, SS and ICAT from per-sentence scores (Nadeem et al. 2021).

    Per target term: SS = % of examples whose stereotype sentence outscores the
    anti-stereotype one; LMS = % of (stereotype, unrelated) and (anti-stereotype, unrelated)
    comparisons won by the meaningful sentence. Both are averaged over target terms, and
    ``ICAT = LMS · min(SS, 100 − SS) / 50`` (the official evaluation script).

    Parameters
    ----------
    items
        One row per sentence: ``id`` (example), ``target``, ``bias_type``, ``gold_label``
        (``stereotype``/``anti-stereotype``/``unrelated``) and ``score``.
    group
        Also report per value of this column (e.g. ``"bias_type"``).

    Returns
    -------
    pandas.DataFrame
        ``group, metric (lms/ss/icat), value, ci_low, ci_high (NaN), n (examples)``.

    Examples
    --------
    >>> frame = pd.DataFrame({"id": ["a"] * 3, "target": "t", "bias_type": "race",
    ...     "gold_label": ["stereotype", "anti-stereotype", "unrelated"], "score": [0.5, 0.4, 0.1]})
    >>> stereoset_scores(frame).value.tolist()
    [100.0, 100.0, 0.0]
    """
    wide = items.pivot_table(index=["id", "target", "bias_type"], columns="gold_label", values="score").reset_index()
    wide["pro"] = (wide["stereotype"] > wide["anti-stereotype"]).astype(float)
    wide["related"] = ((wide["stereotype"] > wide["unrelated"]).astype(float)
                       + (wide["anti-stereotype"] > wide["unrelated"]).astype(float))
    groups = [("all", wide)] + ([(str(k), v) for k, v in wide.groupby(group)] if group else [])
    rows = []
    for name, part in groups:
        terms = part.groupby("target").agg(pro=("pro", "sum"), related=("related", "sum"), total=("pro", "size"))
        ss = float((100.0 * terms.pro / terms.total).mean())
        lms = float((100.0 * terms.related / (2.0 * terms.total)).mean())
        icat = lms * min(ss, 100.0 - ss) / 50.0
        rows += [(name, metric, value, np.nan, np.nan, len(part)) for metric, value in
                 (("lms", lms), ("ss", ss), ("icat", icat))]
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _official_piece_scores(scorer: MaskedLMScorer, examples: Sequence[dict]) -> tuple[list[str], list[np.ndarray]]:
    """Per sentence, the filling word and the log-probabilities of its pieces, as StereoSet's released scorer gets them."""
    tokenizer, mask_id = scorer.tokenizer, scorer.tokenizer.mask_token_id
    sequences, copies, words, counts = [], [], [], []
    for example in examples:
        context = example["context"]
        for sentence in example["sentences"]:
            word = stereoset_word(context, sentence["sentence"])
            pieces = tokenizer.encode(word, add_special_tokens=False)
            if not pieces:
                raise InputError(f"StereoSet example {example['id']}: the word {word!r} of {sentence['sentence']!r} "
                                 "tokenizes to nothing; fill BLANK with a word the tokenizer keeps.")
            for index, piece in enumerate(pieces):
                ids = scorer.encode(context.replace("BLANK", tokenizer.decode(pieces[:index]) + scorer.mask_token))
                ids = ids["input_ids"]
                if ids.count(mask_id) != 1:
                    raise InputError(f"StereoSet example {example['id']}: the context {context!r} holds the mask "
                                     f"token {scorer.mask_token!r} itself; remove it.")
                position = ids.index(mask_id)
                sequences.append(ids)
                copies.append(MaskedCopy(len(sequences) - 1, (position,), position, piece))
            words.append(word)
            counts.append(len(pieces))
    scores, _, _ = score_copies(scorer.model, sequences, copies, scorer.max_tokens, progress=scorer.progress)
    return words, np.split(scores, np.cumsum(counts)[:-1])


def stereoset(model: LoadedModel | MaskedLMScorer, path: str | Path, variant: StereoSetVariant = "official",
              max_tokens: int = 4096, progress: bool = True) -> ClozeResult:
    """StereoSet intrasentence LMS, SS and ICAT (Nadeem et al. 2021), overall and per bias type.

    A sentence's score is the mean probability of the word-pieces of the word that fills
    ``BLANK``; metrics by :func:`stereoset_scores`. Two ways to get the piece probabilities:

    * ``variant="official"`` (default): the released discriminative scorer
      (``code/eval_discriminative_models.py`` with ``dataloader.py``). The word is the
      sentence's word at BLANK's position without punctuation
      (:func:`~bertology.analyses.cloze.formats.stereoset_word`), split into pieces
      ``w_1..w_k`` on its own; piece ``w_i`` is predicted at the one mask of the context
      with BLANK replaced by ``decode(w_<i) + [MASK]``: earlier pieces written back,
      later pieces absent, the rest of the sentence being the context.
    * ``variant="within_word_l2r"``: the pieces of the word as the full sentence tokenizes
      it, ``w_i`` predicted with ``w_i..w_k`` all masked in the sentence (earlier pieces
      written back), as :meth:`MaskedLMScorer.score_spans` scores a span (Kauf & Ivanova
      2023). It differs from the official scores on words of several pieces.

    Parameters
    ----------
    model
        A masked-LM model or scorer.
    path
        StereoSet ``dev.json``.
    variant
        ``"official"`` or ``"within_word_l2r"``.
    max_tokens, progress
        Batching budget and progress bars (when a model is given).

    Returns
    -------
    ClozeResult
        Primary metric ``icat``; groups ``all`` and each bias type; ``items`` has the scored
        ``word``, its ``n_pieces`` and the ``score``.

    Raises
    ------
    InputError
        Unknown variant, or a malformed file (see :func:`~bertology.analyses.cloze.formats.read_stereoset`).

    Examples
    --------
    >>> import bertology as bt
    >>> mlm = bt.load_model("bert-base-uncased", head="mlm")  # doctest: +SKIP
    >>> bt.stereoset(mlm, "dev.json").metric("ss")  # doctest: +SKIP
    """
    if variant not in STEREOSET_VARIANTS:
        raise InputError(f"variant={variant!r} is not one of {STEREOSET_VARIANTS}.")
    scorer = as_scorer(model, max_tokens, progress)
    examples = read_stereoset(path)
    rows = [{"id": example["id"], "target": example["target"], "bias_type": example["bias_type"],
             "sentence_id": sentence["id"], "gold_label": sentence["gold_label"], "sentence": sentence["sentence"]}
            for example in examples for sentence in example["sentences"]]
    if variant == "official":
        words, pieces = _official_piece_scores(scorer, examples)
    else:
        texts = [row["sentence"] for row in rows]
        spans = [_fill_span(example["context"], sentence["sentence"])
                 for example in examples for sentence in example["sentences"]]
        words, pieces = [text[start:end] for text, (start, end) in zip(texts, spans)], scorer.score_spans(texts, spans)
    items = pd.DataFrame(rows)
    items["word"] = words
    items["score"] = [float(np.exp(p).mean()) for p in pieces]
    items["n_pieces"] = [len(p) for p in pieces]
    meta = {"benchmark": "stereoset", "source": str(path), "variant": variant, "model": scorer.model.describe(),
            "primary_metric": "icat", "plot": "bars"}
    return ClozeResult("stereoset", items, stereoset_scores(items, group="bias_type"), meta)


def blimp(model: LoadedModel | MaskedLMScorer, path: str | Path, variant: PLLVariant = "within_word_l2r",
          n_boot: int = 1000, seed: int = 0, max_tokens: int = 4096, progress: bool = True) -> ClozeResult:
    """BLiMP accuracy (Warstadt et al. 2020) with pseudo-log-likelihoods, per paradigm and field.

    A pair is right when ``PLL(sentence_good) > PLL(sentence_bad)`` (Salazar et al. 2020;
    ``within_word_l2r`` by default, Kauf & Ivanova 2023).

    Parameters
    ----------
    model
        A masked-LM model or scorer.
    path
        One BLiMP paradigm ``.jsonl`` or a directory of them.
    variant
        PLL variant: ``"original"`` or ``"within_word_l2r"``.
    n_boot, seed, max_tokens, progress
        Bootstrap and batching settings.

    Returns
    -------
    ClozeResult
        Primary metric ``accuracy``; groups ``all``, each ``UID`` (paradigm) and each ``field``.

    Raises
    ------
    InputError
        Unknown variant, or a malformed file (a bad line is named by file and line; see
        :func:`~bertology.analyses.cloze.formats.read_blimp`).

    Examples
    --------
    >>> import bertology as bt
    >>> mlm = bt.load_model("bert-base-uncased", head="mlm")  # doctest: +SKIP
    >>> bt.blimp(mlm, "blimp/data").to_frame()  # doctest: +SKIP
    """
    if variant not in PLL_VARIANTS:
        raise InputError(f"variant={variant!r} is not one of {PLL_VARIANTS}.")
    scorer = as_scorer(model, max_tokens, progress)
    frame = read_blimp(path)
    scores = scorer.pll(list(frame.sentence_good) + list(frame.sentence_bad), variant=variant)
    items = frame.copy()
    items["pll_good"], items["pll_bad"] = scores[:len(frame)], scores[len(frame):]
    items["accuracy"] = (items.pll_good > items.pll_bad).astype(float)
    summary = _summaries(items, "accuracy", ["UID", "field"], n_boot, seed)
    meta = {"benchmark": "blimp", "source": str(path), "variant": variant, "model": scorer.model.describe(),
            "primary_metric": "accuracy", "plot": "bars", "chance": 0.5}
    return ClozeResult("blimp", items, summary, meta)


def agreement_stimuli(model: LoadedModel | MaskedLMScorer, path: str | Path, fmt: str = "auto",
                      include_is_are: bool = False, n_boot: int = 1000, seed: int = 0, max_tokens: int = 4096,
                      progress: bool = True) -> ClozeResult:
    """Subject–verb agreement accuracy with Goldberg's (2019) scoring.

    The verb is masked and the MLM's log-probability of the correct and the incorrect
    form is compared at the mask. As in Goldberg's ``eval_bert.py``, items where either
    form is not a single known word-piece in context are skipped (``meta["n_skipped"]``),
    Marvin & Linzen pairs that differ in more than one word are left out
    (``meta["n_unpaired"]``), and so are the ``generated.tab`` items whose correct form
    is ``is`` or ``are`` (``meta["n_is_are"]``) unless ``include_is_are=True``.

    Parameters
    ----------
    model
        A masked-LM model or scorer.
    path
        ``lgd_dataset.tsv`` (Linzen et al. 2016), ``generated.tab`` (Gulordava et al. 2018)
        or a Marvin & Linzen (2018) TSV.
    fmt
        ``"auto"``, ``"lgd"``, ``"gulordava"`` or ``"marvin"``.
    include_is_are
        Score the ``generated.tab`` items whose verbs are ``is``/``are`` too.
    n_boot, seed, max_tokens, progress
        Bootstrap and batching settings.

    Returns
    -------
    ClozeResult
        Primary metric ``accuracy`` per condition (attractor count or Marvin & Linzen case);
        ``items`` keeps each item's ``line`` in the file.

    Raises
    ------
    InputError
        Unreadable file, a malformed row or a sentence the model cannot take (named by file
        and line), or no item whose forms are single word-pieces.

    Examples
    --------
    >>> import bertology as bt
    >>> mlm = bt.load_model("bert-base-uncased", head="mlm")  # doctest: +SKIP
    >>> bt.agreement_stimuli(mlm, "lgd_dataset.tsv").metric()  # doctest: +SKIP
    """
    scorer = as_scorer(model, max_tokens, progress)
    frame, counts = read_agreement(path, fmt, include_is_are=include_is_are)
    tokenizer = scorer.tokenizer
    sequences, copies, kept = [], [], []
    for index, row in enumerate(frame.itertuples()):
        try:
            prefix, suffix = scorer.split_template(row.masked.replace(MASK, "[MASK]"))
            ids = scorer.encode(prefix + scorer.mask_token + suffix)["input_ids"]
            forms = []
            for form in (row.good, row.bad):
                encoding = scorer.encode(prefix + form + suffix)
                covering = covering_tokens(encoding, len(prefix), len(prefix) + len(form))
                if len(covering) == 1 and encoding["input_ids"][covering[0]] != tokenizer.unk_token_id:
                    forms.append(encoding["input_ids"][covering[0]])
        except InputError as error:
            raise InputError(f"{path}:{row.line}: {error}") from None
        if len(forms) != 2:
            continue
        position = ids.index(tokenizer.mask_token_id)
        sequences.append(ids)
        copies += [MaskedCopy(len(sequences) - 1, (position,), position, form) for form in forms]
        kept.append(index)
    if not kept:
        raise InputError(f"{path}: no item has good and bad forms that are single word-pieces of this tokenizer.")
    scores, _, _ = score_copies(scorer.model, sequences, copies, scorer.max_tokens, progress=scorer.progress)
    items = frame.iloc[kept].reset_index(drop=True)
    items["log_p_good"], items["log_p_bad"] = scores[0::2], scores[1::2]
    items["accuracy"] = (items.log_p_good > items.log_p_bad).astype(float)
    skipped = len(frame) - len(kept)
    if skipped:
        logger.info("agreement: skipped %d of %d items whose forms are not single word-pieces", skipped, len(frame))
    meta = {"benchmark": "agreement", "source": str(path), "model": scorer.model.describe(),
            "primary_metric": "accuracy", "plot": "bars", "chance": 0.5, "n_skipped": skipped,
            "n_unpaired": counts["n_unpaired"], "n_is_are": counts["n_is_are"], "include_is_are": include_is_are,
            "n_items": len(items)}
    return ClozeResult("agreement-stimuli", items, summarise(items, ["accuracy"], n_boot=n_boot, seed=seed), meta)
