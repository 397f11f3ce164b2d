"""Dependency heads in attention (Clark et al. 2019, §4), streamed over a treebank in length-sorted batches.

The procedure is that of the authors' released code (github.com/clarkkev/attention-analysis):
``bpe_utils.get_word_word_attention`` turns token attention into word attention, and the
``Syntax_Analysis.ipynb`` notebook scores every head with ``attn_head_predictor`` and
``evaluate_predictor`` against the fixed-offset baseline of ``offset_predictor``.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bertology.analyses.syntax.heads_result import DIRECTIONS, MIN_COUNT, DependencyHeads
from bertology.core.attention import check_from_split, word_attention
from bertology.core.data.conllu import DependencySentence, load_conllu
from bertology.core.errors import InputError
from bertology.core.extraction import batch_tensors, encode_corpus, length_sorted_batches
from bertology.core.extraction.align import EncodedCorpus, as_integer
from bertology.core.extraction.extractor import parse_layers
from bertology.core.hooks import trace
from bertology.core.models import LoadedModel, load_model
from bertology.core.progress import progress_bar
from bertology.core.viz import save_figure

logger = logging.getLogger(__name__)

OFFSETS = tuple(range(-3, 3))
"""Relative positions of the fixed-offset baseline: ``range(-3, 3)`` as in the notebook."""

POSSESSIVE_RELATIONS = ("poss", "nmod:poss")
"""Relations scored by the prediction of the next word when that word is ``'s`` (Clark et al. §4.2)."""

POSSESSIVE_MARKERS = ("'s", "s'")
"""The next words that trigger the possessive rule, as written in the notebook."""

PUNCTUATION = "PUNCT"
"""UPOS of the words left out of the maximum-spanning-tree UUAS."""

CHUNK_SENTENCES = 512
"""Sentences tokenized at a time: memory stays bounded however large the treebank is."""


def without_self_and_padding(words: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Word attention with self-attention and every pair involving a padding word set to 0.

    The notebook sets self-attention to 0 before its argmax. Padding set to 0 never changes
    an argmax either: attention is not negative and the first word is always real, so a
    row of zeros picks the first word, as ``np.argmax`` does over the real words alone.

    Parameters
    ----------
    words
        ``(..., batch, heads, n, n)`` word-to-word attention (real words only).
    valid
        ``(batch, n)`` bool, ``False`` for padding words.

    Returns
    -------
    torch.Tensor
        The same shape as ``words``.

    Examples
    --------
    >>> without_self_and_padding(torch.ones(1, 1, 2, 2), torch.tensor([[True, False]]))[0, 0]
    tensor([[0., 0.],
            [0., 0.]])
    """
    n = words.shape[-1]
    valid = valid.to(words.device)
    keep = valid[:, :, None] & valid[:, None, :] & ~torch.eye(n, dtype=torch.bool, device=words.device)
    return words * keep[:, None]


def head_predictions(scores: torch.Tensor) -> torch.Tensor:
    """The word each word's head is predicted to be, in both directions (``attn_head_predictor``).

    The most-attended other word is the prediction (the first one when several tie);
    attention to [CLS]/[SEP] is left out and rows are not renormalised, as in the notebook
    (renormalising would not change the argmax).

    Parameters
    ----------
    scores
        ``(..., batch, heads, n, n)`` word-to-word attention from
        :func:`without_self_and_padding`.

    Returns
    -------
    torch.Tensor
        ``(2, ..., batch, heads, n)`` long: 0-based predicted head of each word, for
        ``dep->head`` (the word it attends to most) and ``head->dep`` (the word that
        attends most to it).

    Examples
    --------
    >>> w = torch.tensor([[.5, .3, .2], [.1, .1, .8], [.6, .3, .1]])[None, None]
    >>> head_predictions(without_self_and_padding(w, torch.ones(1, 3, dtype=torch.bool)))[:, 0, 0].tolist()
    [[1, 2, 0], [2, 0, 1]]
    """
    return torch.stack([scores.argmax(-1), scores.transpose(-1, -2).contiguous().argmax(-1)])


@contextmanager
def _one_thread(device: torch.device) -> Iterator[None]:
    """Run CPU work of many small operations on one thread: threads cost more than they save there."""
    if device.type != "cpu":
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def maximum_spanning_tree(scores: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
    """Prim's maximum spanning tree of many symmetric graphs at once.

    Parameters
    ----------
    scores
        ``(..., n, n)`` symmetric edge weights.
    nodes
        ``(..., n)`` bool: the nodes of each graph (the others are left out).

    Returns
    -------
    torch.Tensor
        ``(..., n)`` long: the node each node was attached to; ``-1`` for the first node
        of a graph and for left-out nodes.

    Examples
    --------
    >>> s = torch.tensor([[0, 5, 1, 0], [5, 0, 2, 4], [1, 2, 0, 3], [0, 4, 3, 0]]).float()
    >>> maximum_spanning_tree(s, torch.tensor([True, True, True, True])).tolist()
    [-1, 0, 3, 1]
    """
    shape, n = scores.shape[:-1], scores.shape[-1]
    scores = scores.reshape(-1, n, n)
    graphs = scores.shape[0]
    outside = nodes.to(scores.device).expand(shape).reshape(-1, n).clone()
    parent = torch.full((graphs, n), -1, dtype=torch.long, device=scores.device)
    if n == 0 or not bool(outside.any()):
        return parent.reshape(shape)
    with _one_thread(scores.device):
        start = outside.long().argmax(-1)
        outside[torch.arange(graphs, device=scores.device), start] = False
        best = scores.gather(1, start[:, None, None].expand(graphs, 1, n))[:, 0].masked_fill(~outside, -math.inf)
        source = start[:, None].expand(graphs, n).clone()
        positions = torch.arange(n, device=scores.device)
        for _ in range(int(outside.sum(-1).max())):
            value, node = best.max(-1)
            hit = (positions == node[:, None]) & (value > -math.inf)[:, None]
            parent = torch.where(hit, source, parent)
            outside &= ~hit
            row = scores.gather(1, node[:, None, None].expand(graphs, 1, n))[:, 0]
            better = (row > best) & outside
            best = torch.where(better, row, best).masked_fill_(hit, -math.inf)
            source = torch.where(better, node[:, None], source)
    return parent.reshape(shape)


@dataclass
class _Sentences:
    """The sentences of one batch as padded tensors (words only, 0-based heads, ``-1`` for ROOT)."""

    valid: torch.Tensor       # (b, n) bool
    heads: torch.Tensor       # (b, n) long; -1 ROOT, -2 padding
    relations: torch.Tensor   # (b, n) long; the padding relation is len(relations)
    next_rule: torch.Tensor   # (b, n) bool: possessive relation followed by 's
    lengths: torch.Tensor     # (b,) long
    nodes: torch.Tensor       # (b, n) bool: non-punctuation words
    gold_arcs: torch.Tensor   # (b, n, n) bool: undirected gold arcs between non-punctuation words


def _sentence_tensors(sentences: Sequence[DependencySentence], relation_ids: dict[str, int],
                      device: torch.device) -> _Sentences:
    width = max(len(s.words) for s in sentences)
    size = (len(sentences), width)
    valid = np.zeros(size, dtype=bool)
    heads = np.full(size, -2, dtype=np.int64)
    relations = np.full(size, len(relation_ids), dtype=np.int64)
    next_rule = np.zeros(size, dtype=bool)
    nodes = np.zeros(size, dtype=bool)
    gold = np.zeros((len(sentences), width, width), dtype=bool)
    for row, sentence in enumerate(sentences):
        n = len(sentence.words)
        valid[row, :n] = True
        heads[row, :n] = np.asarray(sentence.heads, dtype=np.int64) - 1
        relations[row, :n] = [relation_ids[r] for r in sentence.deprels]
        next_rule[row, :n - 1] = [r in POSSESSIVE_RELATIONS and w in POSSESSIVE_MARKERS
                                  for r, w in zip(sentence.deprels[:-1], sentence.words[1:])]
        nodes[row, :n] = [u != PUNCTUATION for u in sentence.upos]
        dependents = np.flatnonzero((heads[row, :n] >= 0) & nodes[row, :n])
        dependents = dependents[nodes[row, heads[row, dependents]]]
        gold[row, dependents, heads[row, dependents]] = gold[row, heads[row, dependents], dependents] = True
    as_tensor = lambda array: torch.from_numpy(array).to(device)  # noqa: E731
    return _Sentences(as_tensor(valid), as_tensor(heads), as_tensor(relations), as_tensor(next_rule),
                      as_tensor(valid.sum(1)), as_tensor(nodes), as_tensor(gold))


class HeadCounter:
    """Running counts of correct head predictions per direction, layer, head and relation.

    Implements ``evaluate_predictor`` of Clark et al.'s notebook for every head at once:
    a word counts as correct when its predicted head is its gold head (ROOT is never
    predicted). A word with relation ``poss`` or ``nmod:poss`` followed by ``'s`` (or
    ``s'``) is scored by the prediction of that next word, when its own prediction is
    not the sentence's last word (the notebook's condition ``p < len(words)``). The
    counts stay on the device; memory does not grow with the corpus.

    Parameters
    ----------
    num_layers, num_heads
        Shape of the attention evaluated.
    n_relations
        Relation labels (ids ``0..n_relations-1``).

    Examples
    --------
    >>> counter = HeadCounter(1, 1, 1)
    >>> w = torch.tensor([[0, .9, .1], [.2, 0, .8], [.3, .7, 0]])[None, None, None]
    >>> toy = DependencySentence(("a", "b", "c"), ("X",) * 3, ("X",) * 3, (2, 0, 2), ("r",) * 3)
    >>> s = _sentence_tensors([toy], {"r": 0}, torch.device("cpu"))
    >>> counter.update(w, s)
    >>> counter.correct[:, 0, 0, 0].tolist()  # dep->head: words 1 and 3; head->dep: word 3
    [2, 1]
    """

    def __init__(self, num_layers: int, num_heads: int, n_relations: int) -> None:
        self.n_relations = n_relations
        self.correct = torch.zeros(len(DIRECTIONS), num_layers, num_heads, n_relations, dtype=torch.long)
        self.mst_correct = torch.zeros(num_layers, num_heads, dtype=torch.long)
        self.mst_total = 0

    @torch.inference_mode()
    def update(self, words: torch.Tensor, sentences: _Sentences) -> None:
        """Add one batch of word-to-word attention ``(layers, batch, heads, n, n)`` (real words only)."""
        scores = without_self_and_padding(words, sentences.valid)
        predictions = head_predictions(scores)                                 # (2, l, b, h, n)
        gold = sentences.heads[None, None, :, None, :]
        correct = predictions == gold
        following = torch.cat([predictions[..., 1:], torch.full_like(predictions[..., :1], -1)], -1)
        not_last = predictions < (sentences.lengths - 1)[None, None, :, None, None]
        rule = sentences.next_rule[None, None, :, None, :] & not_last
        correct = torch.where(rule, following == gold, correct)
        per_word = correct.transpose(2, 3).flatten(3).long()                  # (2, l, h, b * n)
        counts = torch.zeros(*per_word.shape[:3], self.n_relations + 1, dtype=torch.long, device=per_word.device)
        counts.scatter_add_(-1, sentences.relations.flatten().expand(per_word.shape), per_word)
        self.correct = self.correct.to(counts.device) + counts[..., :self.n_relations]
        parent = maximum_spanning_tree(scores + scores.transpose(-1, -2), sentences.nodes[None, :, None, :])
        attached = parent >= 0
        arcs = sentences.gold_arcs[None, :, None].expand(*parent.shape, parent.shape[-1])
        found = arcs.gather(-1, parent.clamp(min=0)[..., None])[..., 0] & attached
        self.mst_correct = self.mst_correct.to(found.device) + found.sum(dim=(1, 3))
        self.mst_total += int(sentences.gold_arcs.sum()) // 2


def offset_baseline(sentences: Sequence[DependencySentence], relation_ids: dict[str, int],
                    offsets: Sequence[int] = OFFSETS) -> np.ndarray:
    """Correct predictions of the fixed-offset baseline (the notebook's ``offset_predictor``).

    The predicted head of word ``i`` (1-based) is word ``i + offset``, clipped to
    ``0..n`` (0 is ROOT), scored with the same possessive rule as the heads.

    Parameters
    ----------
    sentences
        The evaluated sentences.
    relation_ids
        Relation label to column.
    offsets
        Relative positions to try.

    Returns
    -------
    numpy.ndarray
        ``(len(offsets), len(relation_ids))`` int64 counts.

    Examples
    --------
    >>> s = DependencySentence(("the", "dog", "barks"), ("DET", "NOUN", "VERB"), ("DT", "NN", "VBZ"), (2, 3, 0),
    ...                        ("det", "nsubj", "root"))
    >>> offset_baseline([s], {"det": 0, "nsubj": 1, "root": 2}, offsets=[-1, 1]).tolist()
    [[0, 0, 0], [1, 1, 0]]
    """
    lengths = np.fromiter((len(s.words) for s in sentences), dtype=np.int64, count=len(sentences))
    n = np.repeat(lengths, lengths)
    position = np.arange(n.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)       # 0-based
    heads = np.concatenate([np.asarray(s.heads, dtype=np.int64) for s in sentences])
    relations = np.concatenate([[relation_ids[r] for r in s.deprels] for s in sentences]).astype(np.int64)
    rule = np.concatenate([[r in POSSESSIVE_RELATIONS and (i + 1 < len(s.words)) and s.words[i + 1] in
                            POSSESSIVE_MARKERS for i, r in enumerate(s.deprels)] for s in sentences]).astype(bool)
    counts = np.zeros((len(offsets), len(relation_ids)), dtype=np.int64)
    for row, offset in enumerate(offsets):
        predicted = np.clip(position + offset + 1, 0, n)
        following = np.clip(position + offset + 2, 0, n)
        correct = np.where(rule & (predicted < n), following == heads, predicted == heads)
        counts[row] = np.bincount(relations[correct], minlength=len(relation_ids))
    return counts


def _resolve_attention_layers(layers: object, num_layers: int) -> list[int]:
    parsed = parse_layers(layers)
    if parsed == "all":
        return list(range(num_layers))
    try:
        resolved = sorted({range(num_layers)[index] for index in parsed})
    except IndexError:
        raise InputError(f"layers {parsed} out of range: the model has {num_layers} attention layers "
                         f"(0..{num_layers - 1}).") from None
    if not resolved:
        raise InputError("No layers requested: pass 'all' or at least one attention layer index.")
    return resolved


def _check_sentences(treebank: object) -> list[DependencySentence]:
    if isinstance(treebank, (str, Path)):
        treebank = load_conllu(treebank)
    sentences = list(treebank)
    if not sentences:
        raise InputError("The treebank is empty: pass a CoNLL-U file (bt.data.load_conllu) with sentences.")
    for index, sentence in enumerate(sentences):
        if not isinstance(sentence, DependencySentence):
            raise InputError(f"Item {index} of the treebank is a {type(sentence).__name__}, not a "
                             "DependencySentence: read the treebank with bt.data.load_conllu.")
        n = len(sentence.words)
        if any(not 0 <= head <= n for head in sentence.heads):
            raise InputError(f"Sentence {index} has a head outside 0..{n}: heads are 1-based word indices, "
                             "0 for the root.")
    return sentences


def _encode(model: LoadedModel, texts: list[str]) -> tuple[EncodedCorpus | None, list[int]]:
    """Encode whole sentences with every word's token range; returns the corpus and the items kept."""
    try:
        return encode_corpus(model.tokenizer, texts, sys.maxsize, all_words=True), list(range(len(texts)))
    except InputError:
        kept = []
        for index, text in enumerate(texts):
            try:
                encode_corpus(model.tokenizer, [text], sys.maxsize, all_words=True)
                kept.append(index)
            except InputError:
                continue
        if not kept:
            return None, []
        return encode_corpus(model.tokenizer, [texts[i] for i in kept], sys.maxsize, all_words=True), kept


def _token_units(corpus: EncodedCorpus, rows: np.ndarray, width: int) -> tuple[torch.Tensor, int]:
    """``(batch, width)`` unit of each token (words first, then special tokens), and the units per sentence."""
    units_per_row = [len(corpus.all_word_tokens[row]) + int(np.sum(corpus.special_masks[row])) for row in rows]
    n_units = max(units_per_row)
    units = np.full((len(rows), width), n_units, dtype=np.int64)
    for position, row in enumerate(rows):
        ranges = corpus.all_word_tokens[row]
        for word, (first, stop) in enumerate(ranges):
            units[position, first:stop] = word
        special = np.flatnonzero(np.asarray(corpus.special_masks[row], dtype=bool))
        units[position, special] = len(ranges) + np.arange(special.size)
    return torch.from_numpy(units), n_units


def dependency_heads(model: str | LoadedModel, treebank: Sequence[DependencySentence] | str | Path,
                     layers: object = "all", batch_size: int = 32, from_split: str = "mean",
                     min_count: int = MIN_COUNT, device: str | None = None, progress: bool = True) -> DependencyHeads:
    """How well each attention head finds syntactic heads, per relation (Clark et al. 2019, §4).

    "What Does BERT Look At? An Analysis of BERT's Attention" (BlackboxNLP 2019), following
    the authors' released code (github.com/clarkkev/attention-analysis). Each sentence is
    its words joined by spaces, encoded with the model's special tokens; word pieces are
    aligned to words through the tokenizer's offsets. Token attention becomes word
    attention (:func:`word_attention`: to a split word, the sum over its pieces; from it,
    the mean over its pieces). For every head, direction and word, the predicted head is
    the most-attended other word, [CLS]/[SEP] and self left out (:func:`head_predictions`;
    rows are not renormalised, which would not change the argmax), scored per relation
    with the notebook's possessive rule (:class:`HeadCounter`). The fixed-offset baseline
    (:func:`offset_baseline`) scores predicting the word at each offset of :data:`OFFSETS`
    (−3 to 2, the notebook's range); per relation the best-scoring offset is kept: the
    relation's most common relative position within that range, unless clipping at the
    sentence edges decides. As an addition to the paper,
    every head's symmetrised word attention ``A + Aᵀ`` is decoded into a maximum spanning
    tree over the non-punctuation words (:func:`maximum_spanning_tree`) and scored by its
    UUAS against the gold arcs between non-punctuation words.

    Sentences run in length-sorted batches with eager attention under
    ``torch.inference_mode``; only counts are kept, so memory does not grow with the
    treebank. Sentences longer than the model allows, and sentences whose words do not
    align (a word with whitespace inside, or one the tokenizer drops), are left out and
    counted in ``left_out``; the baseline is computed over the same sentences.
    Attention is computed in float32 (the released code stored it as float16 first).

    Parameters
    ----------
    model
        A model name or path (loaded with :func:`bertology.load_model`), or a loaded model.
    treebank
        Sentences from :func:`bertology.data.load_conllu`, or the path of a CoNLL-U file.
    layers
        Attention layers (0-based) to evaluate: ``"all"``, an index, a list, or ``"0,3-5"``.
    batch_size
        Sentences per forward pass.
    from_split
        Attention from a split word: ``"mean"`` over its pieces (the paper), ``"first"``
        piece (the default of the released ``make_attn_word_level``) or ``"max"``.
    min_count
        Relations with fewer words are left out of the table and figure (their counts are kept).
    device
        Device for a model given by name.
    progress
        Show a progress bar.

    Returns
    -------
    DependencyHeads
        ``to_frame()``: the best head per relation and direction beside the fixed-offset
        baseline; ``head_frame()``: every head's accuracy; ``mst_frame()``: every head's UUAS.

    Raises
    ------
    InputError
        An empty treebank, an item that is not a :class:`DependencySentence`, a head
        outside its sentence, an unknown ``from_split``, unreadable or out-of-range ``layers``, ``batch_size`` or
        ``min_count`` below 1, or no sentence that fits the model.

    Examples
    --------
    >>> s = DependencySentence(("The", "dog", "barks", "."), ("DET", "NOUN", "VERB", "PUNCT"),
    ...                        ("DT", "NN", "VBZ", "."), (2, 3, 0, 3), ("det", "nsubj", "root", "punct"))
    >>> heads = dependency_heads("minilm", [s], min_count=1, progress=False)
    >>> heads.to_frame()["relation"].unique().tolist()
    ['all', 'det', 'nsubj']
    """
    check_from_split(from_split)
    if as_integer(batch_size) is None or batch_size < 1:
        raise InputError(f"batch_size must be an integer of at least 1, got {batch_size!r}.")
    if as_integer(min_count) is None or min_count < 1:
        raise InputError(f"min_count must be an integer of at least 1, got {min_count!r}.")
    parse_layers(layers)
    sentences = _check_sentences(treebank)
    loaded = model if isinstance(model, LoadedModel) else load_model(model, device=device)
    attention_layers = _resolve_attention_layers(layers, loaded.num_layers)
    relations = sorted({relation for sentence in sentences for relation in sentence.deprels})
    relation_ids = {relation: index for index, relation in enumerate(relations)}
    counter = HeadCounter(len(attention_layers), loaded.num_heads, len(relations))
    names = [f"layers.{layer}.attn.pattern" for layer in attention_layers]
    evaluated: list[int] = []
    left_out = {"too_long": 0, "unaligned": 0}

    step = batch_size * max(1, CHUNK_SENTENCES // batch_size)

    def batches() -> Iterator[tuple[dict[str, torch.Tensor], torch.Tensor, int, list[DependencySentence]]]:
        for start in range(0, len(sentences), step):
            chunk = sentences[start:start + step]
            spaced = [index for index, s in enumerate(chunk) if all(w and not any(c.isspace() for c in w)
                                                                    for w in s.words)]
            corpus, kept = _encode(loaded, [chunk[i].text for i in spaced])
            kept = [spaced[i] for i in kept]
            left_out["unaligned"] += len(chunk) - len(kept)
            if corpus is None:
                continue
            fits = np.flatnonzero(corpus.lengths <= loaded.max_length)
            left_out["too_long"] += len(kept) - fits.size
            for rows in length_sorted_batches(corpus.lengths[fits], batch_size):
                rows = fits[rows]
                inputs, masks = batch_tensors(loaded, corpus, rows)
                units, n_units = _token_units(corpus, rows, inputs["input_ids"].shape[1])
                batch = [chunk[kept[row]] for row in rows]
                evaluated.extend(start + kept[row] for row in rows)
                yield inputs, units, n_units, batch

    total = math.ceil(len(sentences) / batch_size)
    with torch.inference_mode():
        for inputs, units, n_units, batch in progress_bar(batches(), total=total, desc="dependency heads",
                                                          unit="batch", progress=progress):
            with trace(loaded, names, stop=True) as cache:
                loaded(**inputs)
            patterns = torch.stack([cache[name] for name in names]).float()
            merged = word_attention(patterns, units.to(patterns.device), n_units, from_split)
            width = max(len(s.words) for s in batch)
            counter.update(merged[..., :width, :width], _sentence_tensors(batch, relation_ids, patterns.device))
    if not evaluated:
        raise InputError(f"No sentence could be evaluated ({left_out['too_long']} longer than the model's "
                         f"{loaded.max_length} tokens, {left_out['unaligned']} with words that do not align): "
                         "give shorter sentences or another model.")
    if any(left_out.values()):
        logger.warning("Left out %d sentences longer than %d tokens and %d whose words do not align.",
                       left_out["too_long"], loaded.max_length, left_out["unaligned"])
    kept_sentences = [sentences[index] for index in sorted(evaluated)]
    counts = np.bincount([relation_ids[r] for s in kept_sentences for r in s.deprels], minlength=len(relations))
    present = np.array(sorted(np.flatnonzero(counts > 0), key=lambda i: (-counts[i], relations[i])), dtype=np.int64)
    return DependencyHeads(
        relations=[relations[i] for i in present], counts=counts[present].astype(np.int64),
        correct=counter.correct.cpu().numpy()[..., present], layers=attention_layers, offsets=list(OFFSETS),
        baseline_correct=offset_baseline(kept_sentences, relation_ids)[:, present],
        mst_correct=counter.mst_correct.cpu().numpy(), mst_total=counter.mst_total, n_sentences=len(evaluated),
        left_out=left_out, from_split=from_split, min_count=min_count, model=loaded.describe())


def save_dependency_head_figures(result: DependencyHeads, out: str | Path) -> list[Path]:
    """Render the per-relation best-head figure of a :class:`DependencyHeads` into ``out/figures`` (PDF and PNG).

    Parameters
    ----------
    result
        From :func:`dependency_heads` or :meth:`DependencyHeads.load`.
    out
        Directory of the figures.

    Returns
    -------
    list of pathlib.Path
        The written files.

    Examples
    --------
    >>> import tempfile
    >>> from bertology.analyses.syntax.heads_result import example_result
    >>> [p.name for p in save_dependency_head_figures(example_result(), tempfile.mkdtemp())]
    ['dependency_heads.pdf', 'dependency_heads.png']
    """
    return save_figure(result.plot(), Path(out) / "figures" / "dependency_heads")
