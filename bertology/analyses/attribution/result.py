"""``AttributionResult``: the one result type of every attribution method."""

from __future__ import annotations

import html
import json
import textwrap
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from bertology.analyses.attribution.names import TITLES
from bertology.core.io import write_json_atomic
from bertology.core.results import Result
from bertology.core.viz import new_figure
from bertology.core.viz.style import DIVERGING_CMAP

_ROW_CHARS = 60
TITLE_CHARS_PER_INCH = 11
"""Title characters per inch of figure width before the title wraps."""
ATTRIBUTION_FILE = "attribution.json"


@dataclass
class AttributionResult(Result):
    """Token- and word-level attribution scores of one text for one target class.

    Attributes
    ----------
    text
        The attributed text (cut to the model's limit when ``truncated``).
    tokens
        Token strings, special tokens included.
    token_words
        Per token, the index of its whitespace word, ``-1`` for special tokens.
    token_scores
        Per token score (gradient methods: summed over the hidden dimension; LIME,
        KernelSHAP and occlusion: the token's word score, they work on words).
    words
        Whitespace-separated words of ``text``.
    word_scores
        Per word score: the sum of its tokens' scores (gradient methods), LIME's
        coefficient, the word's Shapley value estimate or its occlusion effect.
    target
        Label name of the explained class.
    target_index
        Its output index.
    method
        A name of :func:`bertology.methods`, e.g. ``"integrated_gradients"`` or ``"lime"``.
    probability
        The classifier's probability of ``target`` for ``text``; for a regression head its
        predicted value (see :attr:`output`).
    parameters
        Everything needed to reproduce the scores (baseline, n_steps, seed, num_samples...).
    delta
        Convergence delta of the methods that have one (integrated gradients, DeepLift,
        GradientSHAP): sum of attributions − (f(x) − f(baseline)); ``None`` otherwise.
    truncated
        Whether the input was longer than the model accepts and was cut.

    Examples
    --------
    >>> r = AttributionResult("good film", ["[CLS]", "good", "film", "[SEP]"], [-1, 0, 1, -1],
    ...                       [0.0, 0.7, 0.1, 0.0], ["good", "film"], [0.7, 0.1], "positive", 1,
    ...                       "lime", 0.9)
    >>> r.to_frame()["score"].tolist()
    [0.0, 0.7, 0.1, 0.0]
    >>> import tempfile
    >>> AttributionResult.load(r.save(tempfile.mkdtemp())) == r
    True
    """

    text: str
    tokens: list[str]
    token_words: list[int]
    token_scores: list[float]
    words: list[str]
    word_scores: list[float]
    target: str
    target_index: int
    method: str
    probability: float
    parameters: dict[str, Any] = field(default_factory=dict)
    delta: float | None = None
    truncated: bool = False

    @property
    def n_steps(self) -> int | None:
        """Integration steps of integrated gradients (``None`` for LIME)."""
        return self.parameters.get("n_steps")

    @property
    def output(self) -> str:
        """What was explained: ``"probability"`` (a class's softmax probability) or ``"regression value"``.

        Examples
        --------
        >>> AttributionResult("a", ["a"], [0], [1.0], ["a"], [1.0], "score", 0, "lime", 3.2,
        ...                   {"classifier": {"output": "regression value"}}).output
        'regression value'
        """
        return str(self.parameters.get("output") or self.parameters.get("classifier", {}).get("output")
                   or "probability")

    @property
    def baseline(self) -> str | None:
        """Baseline token of integrated gradients (``"pad"``, ``"mask"``, ``"unk"``), ``None`` for LIME."""
        return self.parameters.get("baseline")

    def to_frame(self) -> pd.DataFrame:
        """One row per token: ``token``, ``word`` (empty for special tokens), ``word_index``, ``score``.

        Examples
        --------
        >>> r = AttributionResult("a", ["a"], [0], [1.0], ["a"], [1.0], "pos", 1, "lime", 0.5)
        >>> list(r.to_frame().columns)
        ['token', 'word', 'word_index', 'score']
        """
        return pd.DataFrame({
            "token": self.tokens,
            "word": [self.words[w] if w >= 0 else "" for w in self.token_words],
            "word_index": self.token_words,
            "score": self.token_scores,
        })

    def word_frame(self) -> pd.DataFrame:
        """One row per whitespace word: ``word_index``, ``word``, ``score``, ``rank`` (1 = highest score).

        Examples
        --------
        >>> r = AttributionResult("a b", ["a", "b"], [0, 1], [1.0, 2.0], ["a", "b"], [1.0, 2.0], "p", 1, "lime", 0.5)
        >>> r.word_frame()["rank"].tolist()
        [2, 1]
        """
        scores = np.asarray(self.word_scores, dtype=float)
        ranks = np.empty(len(scores), dtype=int)
        ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
        return pd.DataFrame({"word_index": range(len(self.words)), "word": self.words, "score": scores,
                             "rank": ranks})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary (inverse of :meth:`from_dict`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> AttributionResult:
        """Rebuild a result from :meth:`to_dict` output.

        Examples
        --------
        >>> r = AttributionResult("a", ["a"], [0], [1.0], ["a"], [1.0], "pos", 1, "lime", 0.5)
        >>> AttributionResult.from_dict(r.to_dict()) == r
        True
        """
        return cls(**payload)

    def _write(self, directory: Path) -> None:
        write_json_atomic(directory / ATTRIBUTION_FILE, self.to_dict())

    @classmethod
    def _read(cls, directory: Path) -> AttributionResult:
        return cls.from_dict(json.loads((directory / ATTRIBUTION_FILE).read_text(encoding="utf-8")))

    def _title(self) -> str:
        name = TITLES.get(self.method, self.method)
        keep = "\u00a0"
        extra = f", δ{keep}={keep}{self.delta:.2g}" if self.delta is not None else ""
        if self.output == "regression value":
            return f"{name} for {self.target!r} (regression{keep}value{keep}{self.probability:.3g}{extra})"
        return f"{name} for {self.target!r} (p{keep}={keep}{self.probability:.2f}{extra})"

    def plot(self, words: bool = False) -> Figure:
        """Heatmap of the scores over the tokens (or words), wrapped like text.

        Parameters
        ----------
        words
            Colour whitespace words instead of tokens.

        Returns
        -------
        matplotlib.figure.Figure
            Red = evidence for the target class (for a regression head: raises the predicted
            value), blue = against (diverging, centred at 0).

        Examples
        --------
        >>> r = AttributionResult("a", ["a"], [0], [1.0], ["a"], [1.0], "pos", 1, "lime", 0.5)
        >>> type(r.plot()).__name__
        'Figure'
        """
        items = self.words if words else self.tokens
        scores = np.asarray(self.word_scores if words else self.token_scores, dtype=float)
        limit = float(np.abs(scores).max()) or 1.0
        norm = mpl.colors.Normalize(-limit, limit)
        cmap = mpl.colormaps[DIVERGING_CMAP]
        positions, x, row = [], 0.0, 0
        for item in items:
            width = max(len(item), 1) + 1.5
            if x + width > _ROW_CHARS and x > 0:
                x, row = 0.0, row + 1
            positions.append((x, row, width))
            x += width + 0.4
        n_rows = row + 1
        extent = max(left + width for left, _, width in positions) if positions else 1.0
        fig, ax = new_figure(min(7.0, max(3.35, 1.2 + 0.1 * extent)), height=0.7 + 0.3 * n_rows)
        for item, score, (left, line, width) in zip(items, scores, positions):
            ax.add_patch(Rectangle((left, -line - 0.4), width, 0.8, color=cmap(norm(score)), linewidth=0))
            colour = "white" if abs(score) > 0.6 * limit else "black"
            ax.text(left + width / 2, -line, item, ha="center", va="center", fontsize=7, color=colour)
        ax.set_xlim(0, extent)
        ax.set_ylim(-n_rows + 0.5, 0.5)
        ax.axis("off")
        ax.set_title(textwrap.fill(self._title(), width=int(TITLE_CHARS_PER_INCH * fig.get_figwidth())), loc="left")
        bar = fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.03, pad=0.01)
        bar.set_label("score")
        return fig

    def to_html(self) -> str:
        """A self-contained HTML fragment: tokens and words coloured by score, every string escaped."""
        def spans(items: list[str], scores: list[float]) -> str:
            limit = max((abs(s) for s in scores), default=0.0) or 1.0
            out = []
            for item, score in zip(items, scores):
                alpha = min(abs(score) / limit, 1.0)
                rgb = "214,96,77" if score >= 0 else "67,147,195"
                out.append(f'<span class="bt-attr" style="background: rgba({rgb},{alpha:.3f})" '
                           f'title="{score:.4g}">{html.escape(item)}</span>')
            return " ".join(out)
        params = html.escape(json.dumps(self.parameters, default=str))
        legend = (f"red = raises {html.escape(self.target)}, blue = lowers it" if self.output == "regression value"
                  else f"red = for {html.escape(self.target)}, blue = against")
        return (
            '<div class="bt-attribution" style="font-family: sans-serif; line-height: 2;">'
            '<style>.bt-attr{padding:2px 4px;border-radius:3px;font-family:monospace;}</style>'
            f"<p><b>{html.escape(self._title())}</b></p>"
            f"<p>Words: {spans(self.words, self.word_scores)}</p>"
            f"<p>Tokens: {spans(self.tokens, self.token_scores)}</p>"
            f'<p style="font-size: small; color: #555">{legend}; hover for the score. Parameters: {params}</p></div>'
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def save_html(self, path: str | Path) -> Path:
        """Write a self-contained HTML page (no scripts or links to load); returns the path.

        Examples
        --------
        >>> import tempfile, os
        >>> r = AttributionResult("<b>", ["<b>"], [0], [1.0], ["<b>"], [1.0], "pos", 1, "lime", 0.5)
        >>> "&lt;b&gt;" in r.save_html(os.path.join(tempfile.mkdtemp(), "r.html")).read_text()
        True
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(self.text[:60])}"
                        f"</title></head><body>{self.to_html()}</body></html>", encoding="utf-8")
        return path
