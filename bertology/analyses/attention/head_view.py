"""A self-contained interactive HTML head view: inline JS and CSS, no network, escaped tokens."""

from __future__ import annotations

import html
import json
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bertology.analyses.attention.sentence import SentenceAttention, Text, sentence_attention
from bertology.core.io import write_json_atomic
from bertology.core.models import LoadedModel
from bertology.core.results import Result

_HERE = Path(__file__).parent
LABELS_FILE = "labels.json"


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


@dataclass
class HeadView(Result):
    """An interactive view of every head's attention for one input.

    Pick the layer, toggle heads (click; double-click keeps one), hover or focus a token
    to see where it attends (left) or what attends to it (right). For sentence pairs a
    selector restricts lines to A → B or B → A. The URL fragment ``#layer=3&heads=0,5``
    opens the view at that layer and those heads.

    Attributes
    ----------
    attention
        The patterns shown.
    labels
        Display strings of the tokens.
    """

    attention: SentenceAttention
    labels: list[str]

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

    @classmethod
    def _read(cls, directory: Path) -> HeadView:
        labels = json.loads((directory / LABELS_FILE).read_text(encoding="utf-8"))
        return cls(SentenceAttention._read(directory), [str(label) for label in labels])

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

        def column(side: str) -> str:
            cells = "".join(f'<div class="bt-hv-token" tabindex="0" data-index="{i}" data-segment="{int(s)}">'
                            f'{html.escape(label)}</div>'
                            for i, (label, s) in enumerate(zip(self.labels, self.attention.segments)))
            return f'<div class="bt-hv-col bt-hv-{side}">{cells}</div>'

        height = 20 * len(self.labels)
        return (
            f'<div class="bt-head-view" id="{html.escape(uid)}" data-layer="0">'
            f"<style>{_asset('head_view.css')}</style>"
            f'<div class="bt-hv-controls"><label>Layer <select class="bt-hv-layer">{layer_options}</select></label>'
            f'{pair_filter}<span>Heads</span><span class="bt-hv-heads">{head_buttons}</span></div>'
            f'<div class="bt-hv-body">{column("left")}'
            f'<svg class="bt-hv-lines" width="200" height="{height}" viewBox="0 0 200 {height}"></svg>'
            f'{column("right")}</div>'
            '<div class="bt-hv-hint">Hover a token to see its attention; click heads to toggle them.</div>'
            f'<script type="application/json" class="bt-hv-data">{safe_json(data)}</script>'
            f'<script>{_asset("head_view.js")}({safe_json(uid)});</script>'
            "</div>"
        )

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


def page(views: list[HeadView], title: str = "bertology head view") -> str:
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


def head_view(model: LoadedModel, text: Text) -> HeadView:
    """Interactive head view of one sentence or a [SEP]-separated sentence pair.

    Parameters
    ----------
    model
        From :func:`bertology.load_model` (any supported architecture).
    text
        A sentence, or ``(text_a, text_b)``.

    Returns
    -------
    HeadView
        ``save_html(path)`` writes one self-contained file; in a notebook it renders itself.

    Examples
    --------
    >>> import bertology as bt, tempfile, pathlib
    >>> view = bt.head_view(bt.load_model("minilm"), "The bank in the city is closed")
    >>> view.save_html(pathlib.Path(tempfile.mkdtemp()) / "head_view.html").exists()
    True
    """
    attention = sentence_attention(model, text)
    tokenizer = model.tokenizer
    specials = set(tokenizer.all_special_tokens)
    labels = [token if token in specials else (tokenizer.convert_tokens_to_string([token]).strip() or token)
              for token in attention.tokens]
    return HeadView(attention, labels)
