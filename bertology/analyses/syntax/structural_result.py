"""``StructuralProbeResult``: structural-probe scores per layer, baselines, and the predicted trees."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Arc

from bertology.core.errors import InputError
from bertology.core.io import write_json_atomic
from bertology.core.results import META_FILE, TABLE_FILE, Result
from bertology.core.viz import PALETTE, new_figure, save_figure
from bertology.core.viz.style import paper_style

METRICS = {"distance": ("uuas", "dspr"), "depth": ("root_acc", "nspr")}
LABELS = {"uuas": "UUAS", "dspr": "DSpr.", "root_acc": "root accuracy", "nspr": "NSpr."}
TREES_FILE = "trees.json"
ARRAYS_FILE = "predictions.npz"


def _columns(kind: str) -> list[str]:
    metrics = [f"{m}{suffix}" for m in METRICS[kind] for suffix in ("", "_ci_low", "_ci_high")]
    return ["encoder", "layer", "rank", *metrics, "epochs", "dev_loss"]


class StructuralProbeResult(Result):
    """Hewitt & Manning (2019) structural-probe scores of every layer, with baselines and predicted trees.

    Saved with ``save(out)`` as ``table.csv``, ``meta.json``, ``trees.json`` (test words,
    gold heads, layers) and ``predictions.npz`` (punctuation masks and, per rank, the
    predicted spanning-tree edges or depths of every test sentence and layer).

    Parameters
    ----------
    frame
        One row per (encoder, rank, layer): ``encoder`` is ``"trained"``, ``"random"`` (the
        re-initialised encoder) or ``"linear"`` (the linear-chain tree; no layer or rank);
        ``uuas`` and ``dspr`` (distance probes) or ``root_acc`` and ``nspr`` (depth probes),
        each with ``_ci_low``/``_ci_high`` bootstrap bounds over test sentences; the
        ``epochs`` trained and the best held-out ``dev_loss``.
    meta
        Settings (``kind``, model, pooling, punctuation rule, seed, sizes...).
    words, heads, punct
        Per test sentence its words, gold CoNLL-U heads and punctuation mask.
    layers
        The layers of the ``predictions``' first axis.
    predictions
        Per rank, the trained encoder's predictions on the test sentences: ``(n_layers,
        n_edges, 2)`` spanning-tree edges (sentences' edges concatenated, ``n_kept − 1`` per
        sentence) for distance probes, ``(n_layers, n_words)`` depths for depth probes.

    Examples
    --------
    >>> frame = pd.DataFrame({"encoder": ["trained", "linear"], "layer": [1, None], "rank": [4, None],
    ...                       "uuas": [0.7, 0.5], "dspr": [0.8, 0.6]})
    >>> r = StructuralProbeResult(frame, {"kind": "distance"}, words=[("a", "b")], heads=[(2, 0)],
    ...                           punct=[np.array([False, False])], layers=[1],
    ...                           predictions={4: np.array([[[0, 1]]])})
    >>> r.to_frame()["uuas"].tolist(), r.best_layer()
    ([0.7, 0.5], 1)
    """

    def __init__(self, frame: pd.DataFrame, meta: dict[str, Any], *, words: Sequence[Sequence[str]],
                 heads: Sequence[Sequence[int]], punct: Sequence[np.ndarray], layers: Sequence[int],
                 predictions: Mapping[int, np.ndarray]) -> None:
        self.meta = dict(meta)
        self.kind = str(self.meta.get("kind", "distance"))
        if self.kind not in METRICS:
            raise InputError(f"kind {self.kind!r} is not a structural probe: use 'distance' or 'depth'.")
        frame = frame.reindex(columns=_columns(self.kind))
        numeric = [c for c in frame.columns if c != "encoder"]
        frame[numeric] = frame[numeric].astype(float)
        self.frame = frame.reset_index(drop=True)
        self.words = [tuple(str(w) for w in sentence) for sentence in words]
        self.heads = [tuple(int(h) for h in sentence) for sentence in heads]
        self.punct = [np.asarray(p, dtype=bool) for p in punct]
        self.layers = [int(layer) for layer in layers]
        self.predictions = {int(rank): np.asarray(values) for rank, values in predictions.items()}

    def to_frame(self, encoder: str | None = None) -> pd.DataFrame:
        """The table, optionally only one encoder's rows (``"trained"``, ``"random"``, ``"linear"``).

        Examples
        --------
        >>> r = StructuralProbeResult(pd.DataFrame({"encoder": ["trained"], "layer": [0]}), {"kind": "depth"},
        ...                           words=[], heads=[], punct=[], layers=[], predictions={})
        >>> list(r.to_frame().columns)[:4]
        ['encoder', 'layer', 'rank', 'root_acc']
        """
        frame = self.frame if encoder is None else self.frame[self.frame["encoder"] == encoder]
        return frame.reset_index(drop=True)

    def _rank(self, rank: int | None) -> int:
        ranks = sorted(self.predictions) or sorted(int(r) for r in self.to_frame("trained")["rank"].dropna())
        if not ranks:
            raise InputError("The result has no trained probes.")
        if rank is None:
            return ranks[-1]
        if rank not in ranks:
            raise InputError(f"The result has no probes of rank {rank}: use one of {ranks}.")
        return rank

    def best_layer(self, metric: str | None = None, rank: int | None = None) -> int:
        """The trained encoder's layer with the highest ``metric`` (default UUAS or root accuracy).

        Layers whose metric is undefined (e.g. UUAS of test sentences without edges between
        non-punctuation words) rank last; when every layer's is, the first layer is returned.

        Examples
        --------
        >>> t = pd.DataFrame({"encoder": "trained", "layer": [0, 1], "rank": 4, "root_acc": [.2, .6]})
        >>> StructuralProbeResult(t, {"kind": "depth"}, words=[], heads=[], punct=[], layers=[],
        ...                       predictions={}).best_layer()
        1
        """
        metric = metric or METRICS[self.kind][0]
        rows = self.to_frame("trained")
        rows = rows[rows["rank"] == self._rank(rank)]
        scores = rows[metric].fillna(-np.inf)
        return int(rows.loc[scores.idxmax(), "layer"])

    def plot(self, rank: int | None = None) -> Figure:
        """UUAS and DSpr. (or root accuracy and NSpr.) by layer, with the random-encoder and linear baselines.

        Examples
        --------
        >>> t = pd.DataFrame({"encoder": ["trained", "trained", "linear"], "layer": [0, 1, None],
        ...                   "rank": [4, 4, None], "uuas": [.4, .6, .5], "dspr": [.5, .7, .6]})
        >>> fig = StructuralProbeResult(t, {"kind": "distance"}, words=[], heads=[], punct=[], layers=[],
        ...                             predictions={}).plot()
        >>> [ax.get_ylabel() for ax in fig.axes]
        ['UUAS', 'DSpr.']
        """
        rank = self._rank(rank)
        frame = self.to_frame()
        with paper_style():
            figure, axes = new_figure(height=2.0, ncols=2)
            for ax, metric in zip(axes, METRICS[self.kind]):
                for encoder, style in (("trained", dict(marker="o", color=PALETTE[0], label="probe")),
                                       ("random", dict(marker="^", linestyle=":", color=PALETTE[2],
                                                       label="random encoder"))):
                    rows = frame[(frame["encoder"] == encoder) & (frame["rank"] == rank)].sort_values("layer")
                    if rows.empty:
                        continue
                    ax.plot(rows["layer"], rows[metric], **style, zorder=3)
                    if rows[f"{metric}_ci_low"].notna().any():
                        ax.fill_between(rows["layer"], rows[f"{metric}_ci_low"], rows[f"{metric}_ci_high"],
                                        color=style["color"], alpha=0.2, linewidth=0)
                linear = frame.loc[frame["encoder"] == "linear", metric]
                if linear.notna().any():
                    ax.axhline(float(linear.iloc[0]), color="0.4", linestyle="-.", linewidth=1, label="linear chain")
                layers = sorted(frame.loc[frame["encoder"] == "trained", "layer"].dropna().astype(int).unique())
                ax.set_xticks(layers)
                ax.set_xlabel("layer")
                ax.set_ylabel(LABELS[metric])
            handles, labels = axes[0].get_legend_handles_labels()
            figure.legend(handles, labels, loc="outside lower center", ncols=3)
            model = self.meta.get("model", {})
            name = model.get("name") if isinstance(model, dict) else None
            figure.suptitle(f"{self.kind} probe" + (f", {name}" if name else "") + f" (rank {rank})")
        return figure

    def _sentence(self, sentence: int) -> tuple[tuple[str, ...], tuple[int, ...], np.ndarray]:
        if not 0 <= sentence < len(self.words):
            raise InputError(f"sentence={sentence} is not a test sentence: give 0..{len(self.words) - 1}.")
        return self.words[sentence], self.heads[sentence], self.punct[sentence]

    def predicted_edges(self, sentence: int = 0, layer: int | None = None, rank: int | None = None) -> np.ndarray:
        """Predicted spanning-tree edges ``(n_kept − 1, 2)`` of a test sentence (distance probes).

        Examples
        --------
        >>> r = StructuralProbeResult(pd.DataFrame({"encoder": ["trained"], "layer": [1], "rank": [4]}),
        ...                           {"kind": "distance"}, words=[("a", "b")], heads=[(2, 0)],
        ...                           punct=[np.array([False, False])], layers=[1],
        ...                           predictions={4: np.array([[[0, 1]]])})
        >>> r.predicted_edges(0, layer=1).tolist()
        [[0, 1]]
        """
        if self.kind != "distance":
            raise InputError("Predicted edges come from distance probes; this result holds depth probes.")
        self._sentence(sentence)
        counts = [max(int((~p).sum()) - 1, 0) for p in self.punct]
        start = int(np.sum(counts[:sentence]))
        return self.predictions[self._rank(rank)][self._layer(layer, rank), start:start + counts[sentence]]

    def predicted_depths(self, sentence: int = 0, layer: int | None = None, rank: int | None = None) -> np.ndarray:
        """Predicted depths ``(n,)`` of a test sentence's words (depth probes).

        Examples
        --------
        >>> r = StructuralProbeResult(pd.DataFrame({"encoder": ["trained"], "layer": [2], "rank": [4]}),
        ...                           {"kind": "depth"}, words=[("a", "b")], heads=[(2, 0)],
        ...                           punct=[np.array([False, False])], layers=[2],
        ...                           predictions={4: np.array([[1.0, 0.1]])})
        >>> r.predicted_depths(0, layer=2).tolist()
        [1.0, 0.1]
        """
        if self.kind != "depth":
            raise InputError("Predicted depths come from depth probes; this result holds distance probes.")
        self._sentence(sentence)
        start = int(sum(len(w) for w in self.words[:sentence]))
        return self.predictions[self._rank(rank)][self._layer(layer, rank), start:start + len(self.words[sentence])]

    def _layer(self, layer: int | None, rank: int | None) -> int:
        layer = self.best_layer(rank=rank) if layer is None else int(layer)
        if layer not in self.layers:
            raise InputError(f"layer={layer} was not probed: use one of {self.layers}.")
        return self.layers.index(layer)

    def plot_tree(self, sentence: int = 0, layer: int | None = None, rank: int | None = None) -> Figure:
        """Arc diagram of a test sentence: gold arcs above the words, the probe's tree below.

        For a distance probe the lower arcs are the predicted minimum spanning tree (correct
        edges in blue, wrong ones dashed in vermillion); for a depth probe the lower panel
        shows gold and predicted depth per word. Punctuation (left out of the metrics) is
        grey. ``layer`` defaults to the best layer.

        Examples
        --------
        >>> r = StructuralProbeResult(pd.DataFrame({"encoder": ["trained"], "layer": [1], "rank": [4]}),
        ...                           {"kind": "distance"}, words=[("dogs", "bark", ".")], heads=[(2, 0, 2)],
        ...                           punct=[np.array([False, False, True])], layers=[1],
        ...                           predictions={4: np.array([[[0, 1]]])})
        >>> r.plot_tree(0, layer=1).axes[0].get_title()
        'gold (above) vs predicted (below), layer 1'
        """
        from bertology.analyses.syntax.trees import minimum_spanning_tree, tree_depths, tree_distances

        words, heads, punct = self._sentence(sentence)
        layer = self.best_layer(rank=rank) if layer is None else int(layer)
        n = len(words)
        width = "column" if n <= 12 else "page"
        gold_edges = minimum_spanning_tree(tree_distances(heads), ~punct).tolist()
        with paper_style():
            if self.kind == "distance":
                figure, ax = new_figure(width, height=1.9 if n <= 12 else 2.4)
                predicted = self.predicted_edges(sentence, layer, rank).tolist()
                gold_set = {tuple(e) for e in gold_edges}
                for i, j in gold_edges:
                    self._arc(ax, i, j, above=True, color="0.25", linestyle="-")
                for i, j in predicted:
                    right = (i, j) in gold_set
                    self._arc(ax, i, j, above=False, color=PALETTE[0] if right else PALETTE[3],
                              linestyle="-" if right else "--")
                span = max([abs(j - i) for i, j in gold_edges + predicted] or [1])
                ax.set_ylim(-0.5 * span - 0.3, 0.5 * span + 0.3)
                ax.set_xlim(-0.7, n - 0.3)
                ax.axis("off")
                correct = sum(tuple(e) in gold_set for e in predicted)
                ax.set_title(f"gold (above) vs predicted (below), layer {layer}")
                ax.text(n - 0.3, -0.5 * span - 0.3, f"{correct}/{len(gold_edges)} edges right", ha="right",
                        va="bottom", fontsize=6, color="0.3")
            else:
                figure, (ax, bottom) = new_figure(width, height=2.6, nrows=2, sharex=True)
                for i, j in gold_edges:
                    self._arc(ax, i, j, above=True, color="0.25", linestyle="-")
                span = max([abs(j - i) for i, j in gold_edges] or [1])
                ax.set_ylim(-0.3, 0.5 * span + 0.3)
                ax.axis("off")
                ax.set_title(f"gold tree and depths vs predicted depths, layer {layer}")
                positions = np.arange(n)
                bottom.plot(positions, tree_depths(heads), marker="o", color="0.25", label="gold depth")
                bottom.plot(positions, self.predicted_depths(sentence, layer, rank), marker="s", color=PALETTE[0],
                            label="predicted ‖Bh‖²")
                bottom.set_ylabel("depth")
                bottom.invert_yaxis()
                bottom.legend(loc="best")
                bottom.set_xticks(positions, words, rotation=45 if n > 8 else 0, ha="right" if n > 8 else "center")
            if self.kind == "distance":
                for i, word in enumerate(words):
                    ax.text(i, 0, word, ha="center", va="center", rotation=45 if n > 12 else 0,
                            fontsize=7 if n <= 20 else 6, color="0.55" if punct[i] else "black",
                            bbox=dict(boxstyle="square,pad=0.1", facecolor="white", edgecolor="none"))
        return figure

    @staticmethod
    def _arc(ax: Any, i: int, j: int, above: bool, color: str, linestyle: str) -> None:
        low, high = min(i, j), max(i, j)
        theta = (0, 180) if above else (180, 360)
        ax.add_patch(Arc(((low + high) / 2, 0.0 if not above else 0.0), high - low, high - low, theta1=theta[0],
                         theta2=theta[1], color=color, linestyle=linestyle, linewidth=1.0))

    def _write(self, directory: Path) -> None:
        self.frame.to_csv(directory / TABLE_FILE, index=False)
        write_json_atomic(directory / META_FILE, self.meta)
        write_json_atomic(directory / TREES_FILE, {"words": [list(w) for w in self.words],
                                                   "heads": [list(h) for h in self.heads], "layers": self.layers})
        lengths = np.array([len(p) for p in self.punct], dtype=np.int64)
        punct = np.concatenate(self.punct) if self.punct else np.zeros(0, dtype=bool)
        with open(directory / ARRAYS_FILE, "wb") as handle:
            np.savez(handle, punct=punct, lengths=lengths,
                     **{f"rank_{rank}": values for rank, values in self.predictions.items()})

    @classmethod
    def _read(cls, directory: Path) -> StructuralProbeResult:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        trees = json.loads((directory / TREES_FILE).read_text(encoding="utf-8"))
        with np.load(directory / ARRAYS_FILE) as arrays:
            bounds = np.concatenate([[0], np.cumsum(arrays["lengths"])])
            punct = [arrays["punct"][a:b] for a, b in zip(bounds[:-1], bounds[1:])]
            predictions = {int(key.split("_", 1)[1]): arrays[key] for key in arrays.files if key.startswith("rank_")}
        return cls(pd.read_csv(directory / TABLE_FILE), meta, words=trees["words"], heads=trees["heads"], punct=punct,
                   layers=trees["layers"], predictions=predictions)


def save_structural_figures(result: StructuralProbeResult, out: str | Path) -> list[Path]:
    """Write the by-layer curves and the first test sentence's tree (best layer) into ``out/figures``.

    Examples
    --------
    >>> import tempfile
    >>> r = StructuralProbeResult(pd.DataFrame({"encoder": ["trained"], "layer": [1], "rank": [4], "uuas": [.5]}),
    ...                           {"kind": "distance"}, words=[("a", "b")], heads=[(2, 0)],
    ...                           punct=[np.array([False, False])], layers=[1],
    ...                           predictions={4: np.array([[[0, 1]]])})
    >>> [p.name for p in save_structural_figures(r, tempfile.mkdtemp())]
    ['structural_distance.pdf', 'structural_distance.png', 'structural_distance_tree.pdf', \
'structural_distance_tree.png']
    """
    figures = Path(out) / "figures"
    written = save_figure(result.plot(), figures / f"structural_{result.kind}")
    if result.words and result.predictions:
        written += save_figure(result.plot_tree(0), figures / f"structural_{result.kind}_tree")
    return written
