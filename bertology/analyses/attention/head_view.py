"""A self-contained interactive HTML head view: inline JS and CSS, no network, escaped tokens."""

from __future__ import annotations

import html
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from bertology.analyses.attention.neuron import query_key
from bertology.analyses.attention.sentence import SentenceAttention, Text, sentence_attention
from bertology.core.attention import word_attention as core_word_attention
from bertology.core.errors import InputError
from bertology.core.io import write_json_atomic
from bertology.core.models import LoadedModel
from bertology.core.results import Result

_HERE = Path(__file__).parent
LABELS_FILE = "labels.json"
WORDS_FILE = "words.json"
NEURON_FILE = "neuron.npz"
VIEWS = ("head", "neuron")


@cache
def _asset(name: str) -> str:
    return (_HERE / name).read_text(encoding="utf-8")


def safe_json(payload: object) -> str:
    """JSON that can sit inside ``<script>``: ``<``, ``>`` and ``&`` are written as ``\\u`` escapes.

    Examples
    --------
    >>> safe_json({"t": "</script>"})
    '{"t": "\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(payload, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def word_attention(patterns: np.ndarray, words: Sequence[int]) -> np.ndarray:
    """Token attention aggregated to words as Clark et al. (2019): sum over the pieces of a
    split attended word, mean over the pieces of a split attending word (one sentence, as
    arrays; :func:`bertology.core.attention.word_attention` for batches of tensors).

    Parameters
    ----------
    patterns
        ``(..., tokens, tokens)`` attention (query rows, key columns).
    words
        Word index of each token: ``0..n_words - 1``, pieces of one word share an index.

    Returns
    -------
    numpy.ndarray
        ``(..., n_words, n_words)``; rows still sum to one.

    Examples
    --------
    >>> p = np.array([[0.5, 0.5, 0.0], [0.2, 0.2, 0.6], [0.0, 1.0, 0.0]])
    >>> word_attention(p, [0, 1, 1]).tolist()
    [[0.5, 0.5], [0.1, 0.9]]
    """
    units = torch.as_tensor(np.asarray(words), dtype=torch.long)[None]  # (1, tokens)
    tokens = torch.as_tensor(np.asarray(patterns, dtype=np.float64))
    batched = tokens.reshape(-1, 1, 1, *tokens.shape[-2:])  # (maps, batch 1, head 1, tokens, tokens)
    merged = core_word_attention(batched, units, int(units.max()) + 1)
    return merged.reshape(*tokens.shape[:-2], *merged.shape[-2:]).numpy()


class _Page:
    """``save_html`` and notebook display for a view with ``to_html``."""

    def to_html(self, element_id: str | None = None) -> str:
        raise NotImplementedError

    def save_html(self, path: str | Path, title: str = "bertology head view") -> Path:
        """Write a standalone HTML page (no external resources).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> a = SentenceAttention(["a"], np.ones((1, 1, 1, 1), np.float32), np.zeros(1, int))
        >>> HeadView(a, ["a"]).save_html(pathlib.Path(tempfile.mkdtemp()) / "v.html").suffix
        '.html'
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page([self], title=title), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return self.to_html()


@dataclass
class HeadView(_Page, Result):
    """An interactive view of every head's attention for one input.

    Pick the layer, toggle heads (click; double-click keeps one), hover or focus a token
    to see where it attends (left) or what attends to it (right). For sentence pairs a
    selector restricts lines to A → B or B → A. The URL fragment ``#layer=3&heads=0,5``
    opens the view at that layer and those heads. Where words are given, a checkbox
    switches to word-level attention (see :func:`word_attention`).

    Attributes
    ----------
    attention
        The patterns shown.
    labels
        Display strings of the tokens.
    words
        Word index of each token (pieces of one word share one; special tokens are words
        of their own), or ``None`` for no word-level toggle.
    word_labels
        Display strings of the words.
    """

    attention: SentenceAttention
    labels: list[str]
    words: list[int] | None = None
    word_labels: list[str] | None = None

    def to_frame(self) -> pd.DataFrame:
        """The attention shown, as a tidy table (see :meth:`SentenceAttention.to_frame`).

        Examples
        --------
        >>> a = SentenceAttention(["a"], np.ones((1, 2, 1, 1), np.float32), np.zeros(1, int))
        >>> HeadView(a, ["a"]).to_frame()["head"].tolist()
        [0, 1]
        """
        return self.attention.to_frame()

    def plot(self) -> Figure:
        """The layer × head grid of the attention shown (see :meth:`SentenceAttention.plot`).

        Examples
        --------
        >>> a = SentenceAttention(["a"], np.ones((1, 2, 1, 1), np.float32), np.zeros(1, int))
        >>> len(HeadView(a, ["a"]).plot().axes)  # 1 x 2 maps and the colour bar
        3
        """
        return self.attention.plot()

    def _write(self, directory: Path) -> None:
        self.attention._write(directory)
        write_json_atomic(directory / LABELS_FILE, self.labels)
        if self.words is not None:
            write_json_atomic(directory / WORDS_FILE, {"words": self.words, "labels": self.word_labels})

    @classmethod
    def _read(cls, directory: Path) -> HeadView:
        labels = json.loads((directory / LABELS_FILE).read_text(encoding="utf-8"))
        view = cls(SentenceAttention._read(directory), [str(label) for label in labels])
        if (directory / WORDS_FILE).exists():
            words = json.loads((directory / WORDS_FILE).read_text(encoding="utf-8"))
            view.words = [int(w) for w in words["words"]]
            view.word_labels = [str(label) for label in words["labels"]]
        return view

    def to_html(self, element_id: str | None = None) -> str:
        """The view as one HTML fragment (its own ``<style>`` and ``<script>``), unique ids.

        Parameters
        ----------
        element_id
            The ``id`` of the view's root element; a fresh unique one by default. Any
            string is safe: it is escaped in the attribute and in the script.

        Examples
        --------
        >>> a = SentenceAttention(["<b>", "x"], np.full((1, 1, 2, 2), 0.5, np.float32), np.zeros(2, int))
        >>> "&lt;b&gt;" in HeadView(a, ["<b>", "x"]).to_html()
        True
        >>> 'id="a&quot;&gt;"' in HeadView(a, ["<b>", "x"]).to_html(element_id='a">')
        True
        """
        uid = element_id or f"bt-hv-{uuid.uuid4().hex[:12]}"
        n_layers, n_heads = self.attention.patterns.shape[:2]
        data = {"tokens": self.labels, "segments": [int(s) for s in self.attention.segments],
                "layers": list(range(n_layers)), "heads": list(range(n_heads)),
                "attention": np.round(self.attention.patterns.astype(np.float64), 4).tolist()}
        layer_options = "".join(f'<option value="{i}">{i}</option>' for i in range(n_layers))
        head_buttons = "".join(f'<button type="button" class="bt-hv-head" data-head="{h}" title="head {h}">{h}</button>'
                               for h in range(n_heads))
        pair_filter = ('<label>Show <select class="bt-hv-filter"><option value="all">all</option>'
                       '<option value="ab">A &rarr; B</option><option value="ba">B &rarr; A</option></select></label>'
                       if self.attention.is_pair else "")
        word_cells = ""
        word_toggle = ""
        if self.words is not None and self.word_labels is not None:
            words = np.asarray(self.words)
            word_segments = [int(self.attention.segments[np.argmax(words == w)]) for w in range(len(self.word_labels))]
            data["word_tokens"] = self.word_labels
            data["word_segments"] = word_segments
            data["word_attention"] = np.round(word_attention(self.attention.patterns.astype(np.float64), words),
                                              4).tolist()
            word_cells = "".join(f'<div class="bt-hv-token bt-hv-word" tabindex="0" data-index="{i}" '
                                 f'data-segment="{s}">{html.escape(label)}</div>'
                                 for i, (label, s) in enumerate(zip(self.word_labels, word_segments)))
            word_toggle = '<label><input type="checkbox" class="bt-hv-words"> Words</label>'

        def column(side: str) -> str:
            cells = "".join(f'<div class="bt-hv-token" tabindex="0" data-index="{i}" data-segment="{int(s)}">'
                            f'{html.escape(label)}</div>'
                            for i, (label, s) in enumerate(zip(self.labels, self.attention.segments)))
            return f'<div class="bt-hv-col bt-hv-{side}">{cells}{word_cells}</div>'

        height = 20 * len(self.labels)
        return (
            f'<div class="bt-head-view" id="{html.escape(uid)}" data-layer="0">'
            f"<style>{_asset('head_view.css')}</style>"
            f'<div class="bt-hv-controls"><label>Layer <select class="bt-hv-layer">{layer_options}</select></label>'
            f'{pair_filter}{word_toggle}<span>Heads</span><span class="bt-hv-heads">{head_buttons}</span></div>'
            f'<div class="bt-hv-body">{column("left")}'
            f'<svg class="bt-hv-lines" width="200" height="{height}" viewBox="0 0 200 {height}"></svg>'
            f'{column("right")}</div>'
            '<div class="bt-hv-hint">Hover a token to see its attention; click heads to toggle them.</div>'
            f'<script type="application/json" class="bt-hv-data">{safe_json(data)}</script>'
            f'<script>{_asset("head_view.js")}({safe_json(uid)});</script>'
            "</div>"
        )


def page(views: Sequence[HeadView | NeuronView], title: str = "bertology head view") -> str:
    """One standalone HTML page holding several views.

    Examples
    --------
    >>> a = SentenceAttention(["a"], np.ones((1, 1, 1, 1), np.float32), np.zeros(1, int))
    >>> page([HeadView(a, ["a"]), HeadView(a, ["a"])]).count('class="bt-head-view"')
    2
    """
    body = "\n".join(view.to_html() for view in views)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"</head><body>\n{body}\n</body></html>\n")


@dataclass
class NeuronView(_Page, Result):
    """bertviz's neuron view (Vig 2019): one head's query and key vectors, their element-wise
    products and the sums, for one query token at a time.

    For the chosen layer, head and query token (selects, or click a key row to make it the
    query) each key row shows the key vector, the product ``q ⊙ k`` and its sum times the
    scale (the pre-softmax score ``q·k/√d``), the softmax of these scores and the model's
    attention. Blue cells are positive, orange negative. The URL fragment
    ``#layer=2&head=5&query=3`` opens the view there. Where the model's scores are not
    plain ``q·k/√d`` (DeBERTa's disentangled attention, relative position embeddings) the
    view says so and the two right-hand columns differ.

    Attributes
    ----------
    attention
        The model's attention probabilities.
    labels
        Display strings of the tokens.
    queries, keys
        ``(layers, heads, tokens, d_head)`` query and key vectors.
    scale
        Factor on ``q·k`` in the model's scores.
    note
        What else enters the model's scores; empty for scaled dot-product attention.
    """

    attention: SentenceAttention
    labels: list[str]
    queries: np.ndarray
    keys: np.ndarray
    scale: float
    note: str = ""

    def scores(self) -> np.ndarray:
        """The ``scale · q·k`` scores, ``(layers, heads, query, key)``.

        Examples
        --------
        >>> a = SentenceAttention(["a", "b"], np.full((1, 1, 2, 2), 0.5, np.float32), np.zeros(2, int))
        >>> q = np.array([[[[1.0, 2.0], [0.0, 1.0]]]])
        >>> NeuronView(a, ["a", "b"], q, q, 0.5).scores()[0, 0].tolist()
        [[2.5, 1.0], [1.0, 0.5]]
        """
        return np.einsum("lhqd,lhkd->lhqk", self.queries, self.keys) * self.scale

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: layer, head, query, key, query_token, key_token, score (``scale·q·k``), weight.

        Examples
        --------
        >>> a = SentenceAttention(["a", "b"], np.full((1, 1, 2, 2), 0.5, np.float32), np.zeros(2, int))
        >>> q = np.ones((1, 1, 2, 4))
        >>> NeuronView(a, ["a", "b"], q, q, 0.5).to_frame()["score"].tolist()
        [2.0, 2.0, 2.0, 2.0]
        """
        frame = self.attention.to_frame()
        frame.insert(6, "score", self.scores().ravel())
        return frame

    def plot(self) -> Figure:
        """The layer × head grid of the model's attention (see :meth:`SentenceAttention.plot`).

        Examples
        --------
        >>> a = SentenceAttention(["a"], np.ones((1, 2, 1, 1), np.float32), np.zeros(1, int))
        >>> len(NeuronView(a, ["a"], np.ones((1, 2, 1, 2)), np.ones((1, 2, 1, 2)), 0.5).plot().axes)
        3
        """
        return self.attention.plot()

    def _write(self, directory: Path) -> None:
        self.attention._write(directory)
        write_json_atomic(directory / LABELS_FILE, self.labels)
        np.savez_compressed(directory / NEURON_FILE, queries=self.queries, keys=self.keys,
                            scale=np.float64(self.scale), note=np.str_(self.note))

    @classmethod
    def _read(cls, directory: Path) -> NeuronView:
        labels = json.loads((directory / LABELS_FILE).read_text(encoding="utf-8"))
        with np.load(directory / NEURON_FILE, allow_pickle=False) as data:
            return cls(SentenceAttention._read(directory), [str(label) for label in labels], data["queries"],
                       data["keys"], float(data["scale"]), str(data["note"]))

    def to_html(self, element_id: str | None = None) -> str:
        """The view as one HTML fragment (its own ``<style>`` and ``<script>``), unique ids.

        Parameters
        ----------
        element_id
            The ``id`` of the view's root element; a fresh unique one by default (escaped).

        Examples
        --------
        >>> a = SentenceAttention(["<b>", "x"], np.full((1, 1, 2, 2), 0.5, np.float32), np.zeros(2, int))
        >>> q = np.ones((1, 1, 2, 3))
        >>> "&lt;b&gt;" in NeuronView(a, ["<b>", "x"], q, q, 0.5).to_html()
        True
        """
        uid = element_id or f"bt-nv-{uuid.uuid4().hex[:12]}"
        n_layers, n_heads = self.attention.patterns.shape[:2]

        def rounded(array: np.ndarray) -> list:
            return np.round(array.astype(np.float64), 4).tolist()

        data = {"tokens": self.labels, "layers": list(range(n_layers)), "heads": list(range(n_heads)),
                "queries": rounded(self.queries), "keys": rounded(self.keys), "scale": float(self.scale),
                "attention": rounded(self.attention.patterns)}

        def options(labels: Sequence[str]) -> str:
            return "".join(f'<option value="{i}">{html.escape(label)}</option>' for i, label in enumerate(labels))

        d_head = self.queries.shape[-1]
        caveat = f'<div class="bt-nv-caveat">{html.escape(self.note)}</div>' if self.note else ""
        return (
            f'<div class="bt-neuron-view" id="{html.escape(uid)}" data-layer="0">'
            f"<style>{_asset('neuron_view.css')}</style>"
            '<div class="bt-nv-controls">'
            f'<label>Layer <select class="bt-nv-layer">{options([str(i) for i in range(n_layers)])}</select></label>'
            f'<label>Head <select class="bt-nv-head">{options([str(h) for h in range(n_heads)])}</select></label>'
            f'<label>Query <select class="bt-nv-query">{options(self.labels)}</select></label></div>'
            f"{caveat}"
            '<table class="bt-nv-table"><thead><tr><th></th><th>query q, keys k</th><th>q &times; k</th>'
            f"<th>q&middot;k &times; {self.scale:.4g}</th><th>softmax</th><th>attention</th></tr></thead>"
            '<tbody class="bt-nv-rows"></tbody></table>'
            f'<div class="bt-nv-hint">d = {d_head}; blue positive, orange negative; click a row to make that token '
            "the query. The softmax column is computed from the q&middot;k column; the attention column is the "
            "model's.</div>"
            f'<script type="application/json" class="bt-nv-data">{safe_json(data)}</script>'
            f'<script>{_asset("neuron_view.js")}({safe_json(uid)});</script>'
            "</div>"
        )


def _labels(model: LoadedModel, tokens: list[str]) -> list[str]:
    tokenizer = model.tokenizer
    specials = set(tokenizer.all_special_tokens)
    return [token if token in specials else (tokenizer.convert_tokens_to_string([token]).strip() or token)
            for token in tokens]


def _words(model: LoadedModel, text: Text, tokens: list[str]) -> tuple[list[int], list[str]]:
    """Word index of each token (specials alone) and each word's display string."""
    parts = (text,) if isinstance(text, str) else tuple(text)
    encoded = model.tokenizer(*parts, truncation=False, verbose=False)
    keys = [None if word is None else (sequence, word)
            for word, sequence in zip(encoded.word_ids(0), encoded.sequence_ids(0))]
    words: list[int] = []
    pieces: list[list[str]] = []
    for position, key in enumerate(keys):
        if key is None or position == 0 or key != keys[position - 1]:
            pieces.append([])
        words.append(len(pieces) - 1)
        pieces[-1].append(tokens[position])
    specials = set(model.tokenizer.all_special_tokens)
    labels = [group[0] if group[0] in specials else
              (model.tokenizer.convert_tokens_to_string(group).strip() or "".join(group)) for group in pieces]
    return words, labels


def head_view(model: LoadedModel, text: Text, view: Literal["head", "neuron"] = "head") -> HeadView | NeuronView:
    """Interactive head view of one sentence or a [SEP]-separated sentence pair.

    Parameters
    ----------
    model
        From :func:`bertology.load_model` (any supported architecture).
    text
        A sentence, or ``(text_a, text_b)``.
    view
        ``"head"`` (default): every head's attention lines, with a word-level toggle
        (Clark et al. 2019). ``"neuron"``: the query · key breakdown of one head and query
        token at a time (Vig 2019); see :class:`NeuronView`.

    Returns
    -------
    HeadView or NeuronView
        ``save_html(path)`` writes one self-contained file; in a notebook it renders itself.

    Raises
    ------
    InputError
        For an unknown ``view``.

    Examples
    --------
    >>> import bertology as bt, tempfile, pathlib
    >>> view = bt.head_view(bt.load_model("minilm"), "The bank in the city is closed")
    >>> view.save_html(pathlib.Path(tempfile.mkdtemp()) / "head_view.html").exists()
    True
    >>> bt.head_view(bt.load_model("minilm"), "The bank is closed", view="neuron").queries.shape
    (6, 12, 6, 32)
    """
    if view not in VIEWS:
        raise InputError(f"Unknown view {view!r}: use one of {', '.join(VIEWS)}.")
    if view == "neuron":
        qk = query_key(model, text)
        return NeuronView(qk.attention, _labels(model, qk.attention.tokens), qk.queries, qk.keys, qk.scale, qk.note)
    attention = sentence_attention(model, text)
    words, word_labels = _words(model, text, attention.tokens)
    return HeadView(attention, _labels(model, attention.tokens), words, word_labels)
