"""The result of the dependency-head analysis of Clark et al. (2019, §4): per-head accuracy per relation."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bertology.core.io import write_json_atomic
from bertology.core.results import META_FILE, Result
from bertology.core.viz import PALETTE, new_figure, paper_style
from bertology.core.viz.style import figure_width

DIRECTIONS = ("dep->head", "head->dep")
"""``dep->head``: a word's predicted head is the word it attends to most; ``head->dep``: the word that
attends most to it (Clark et al.'s notebook calls this direction ``head<-dep``)."""

ALL = "all"
"""The row over every word of the corpus, whatever its relation (root and punctuation included)."""

EXCLUDED_RELATIONS = ("root", "punct")
"""Relations left out of the table, as in Table 1 of Clark et al. (attention never points to ROOT)."""

MIN_COUNT = 100
"""Relations with fewer words are left out of the table (Clark et al.'s notebook stops at 100)."""

TABLE_FILE = "dependency_heads.csv"
HEADS_FILE = "head_accuracy.csv"
BASELINE_FILE = "offset_baseline.csv"
MST_FILE = "mst_uuas.csv"
RELATIONS_FILE = "relations.csv"


def _best_index(values: np.ndarray) -> int:
    """Flat index of the maximum, ties going to the last position (Python's ``max`` over sorted tuples)."""
    flat = values.reshape(-1)
    return int(flat.size - 1 - np.argmax(flat[::-1]))


@dataclass
class DependencyHeads(Result):
    """Per attention head, how often its most-attended word is a word's gold head (Clark et al. 2019, §4).

    Attributes
    ----------
    relations
        Dependency relation labels, most frequent first.
    counts
        ``(relations,)`` words with each relation.
    correct
        ``(2, layers, heads, relations)`` words whose head the attention head finds, per
        direction of :data:`DIRECTIONS`.
    layers
        The attention layers (0-based) of the rows of ``correct``.
    offsets
        The relative positions of the fixed-offset baseline.
    baseline_correct
        ``(offsets, relations)`` words whose head is the word at that offset.
    mst_correct
        ``(layers, heads)`` gold arcs found by the maximum spanning tree of each head's
        symmetrised attention (punctuation left out).
    mst_total
        Gold arcs between non-punctuation words: the denominator of the MST UUAS.
    n_sentences
        Sentences evaluated.
    left_out
        Sentences left out and why: ``{"too_long": n, "unaligned": n}``.
    from_split
        How a split word's attention rows were merged (``"mean"``, ``"first"`` or ``"max"``).
    min_count
        Relations with fewer words are left out of :meth:`to_frame` and :meth:`plot`.
    model
        :meth:`~bertology.LoadedModel.describe` of the model, when known.
    """

    relations: list[str]
    counts: np.ndarray
    correct: np.ndarray
    layers: list[int]
    offsets: list[int]
    baseline_correct: np.ndarray
    mst_correct: np.ndarray
    mst_total: int
    n_sentences: int
    left_out: dict[str, int] = field(default_factory=dict)
    from_split: str = "mean"
    min_count: int = MIN_COUNT
    model: dict[str, Any] = field(default_factory=dict)

    @property
    def num_heads(self) -> int:
        """Heads per layer."""
        return int(self.correct.shape[2])

    def accuracy(self) -> np.ndarray:
        """``(2, layers, heads, relations)`` accuracy of every head per direction and relation.

        Examples
        --------
        >>> example_result().accuracy()[0, 0, 1, 0]
        np.float64(0.75)
        """
        return self.correct / np.maximum(self.counts, 1)

    def head_frame(self) -> pd.DataFrame:
        """Every head's accuracy: columns direction, layer, head, relation, n, correct, accuracy.

        Examples
        --------
        >>> example_result().head_frame().shape
        (8, 7)
        """
        directions, layers, heads, relations = self.correct.shape
        d, l, h, r = np.meshgrid(np.arange(directions), np.arange(layers), np.arange(heads), np.arange(relations),
                                 indexing="ij")
        return pd.DataFrame({
            "direction": np.asarray(DIRECTIONS)[d.ravel()], "layer": np.asarray(self.layers)[l.ravel()],
            "head": h.ravel(), "relation": np.asarray(self.relations, dtype=object)[r.ravel()],
            "n": self.counts[r.ravel()], "correct": self.correct.ravel(), "accuracy": self.accuracy().ravel(),
        })

    def baseline_frame(self) -> pd.DataFrame:
        """The fixed-offset baseline: columns offset, relation, n, correct, accuracy.

        Examples
        --------
        >>> example_result().baseline_frame()["offset"].unique().tolist()
        [-1, 1]
        """
        o, r = np.meshgrid(np.arange(len(self.offsets)), np.arange(len(self.relations)), indexing="ij")
        return pd.DataFrame({
            "offset": np.asarray(self.offsets)[o.ravel()],
            "relation": np.asarray(self.relations, dtype=object)[r.ravel()], "n": self.counts[r.ravel()],
            "correct": self.baseline_correct.ravel(),
            "accuracy": (self.baseline_correct / np.maximum(self.counts, 1)).ravel(),
        })

    def mst_frame(self) -> pd.DataFrame:
        """UUAS of the maximum spanning tree of every head's attention: columns layer, head, correct, uuas.

        Examples
        --------
        >>> example_result().mst_frame()["uuas"].tolist()
        [0.5, 1.0]
        """
        layers, heads = self.mst_correct.shape
        l, h = np.meshgrid(np.arange(layers), np.arange(heads), indexing="ij")
        return pd.DataFrame({"layer": np.asarray(self.layers)[l.ravel()], "head": h.ravel(),
                             "correct": self.mst_correct.ravel(),
                             "uuas": (self.mst_correct / max(self.mst_total, 1)).ravel()})

    def _table_relations(self, min_count: int) -> list[tuple[str, np.ndarray, int]]:
        """``(label, relation mask, n)`` of the table's rows: all, then relations by frequency."""
        rows = [(ALL, np.ones(len(self.relations), dtype=bool), int(self.counts.sum()))]
        for index, relation in enumerate(self.relations):
            if relation not in EXCLUDED_RELATIONS and self.counts[index] >= min_count:
                mask = np.zeros(len(self.relations), dtype=bool)
                mask[index] = True
                rows.append((relation, mask, int(self.counts[index])))
        return rows

    def to_frame(self, min_count: int | None = None) -> pd.DataFrame:
        """Best head per relation and direction beside the fixed-offset baseline (Clark et al.'s Table 1).

        One row per relation and direction: ``relation, direction, n, layer, head,
        accuracy`` (the best head of that direction; ties go to the later layer, then
        head, as in their notebook), ``baseline_offset, baseline_accuracy`` (the offset
        of :attr:`offsets` that scores best, ties to the larger offset), ``mst_uuas``
        (the UUAS of that head's maximum spanning tree) and ``best`` (the direction
        the notebook reports: the higher accuracy, ties to the later layer, head, and
        ``head->dep``). The first rows are ``all`` (every word); then the relations with
        at least ``min_count`` words, most frequent first, ``root`` and ``punct`` left out.

        Parameters
        ----------
        min_count
            Smallest number of words a relation needs; default :attr:`min_count`.

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> example_result().to_frame()[["relation", "direction", "layer", "head", "accuracy"]]
          relation  direction  layer  head  accuracy
        0      all  dep->head      0     1  0.714286
        1      all  head->dep      0     0  0.571429
        2      det  dep->head      0     1  0.750000
        3      det  head->dep      0     0  0.750000
        4    nsubj  dep->head      0     1  0.666667
        5    nsubj  head->dep      0     0  0.333333
        """
        threshold = self.min_count if min_count is None else min_count
        records = []
        layers = np.asarray(self.layers)
        for label, mask, n in self._table_relations(threshold):
            accuracy = self.correct[..., mask].sum(-1) / max(n, 1)                   # (2, layers, heads)
            baseline = self.baseline_correct[:, mask].sum(-1) / max(n, 1)            # (offsets,)
            offset_index = _best_index(baseline)
            rows = []
            for direction, name in enumerate(DIRECTIONS):
                flat = _best_index(accuracy[direction])
                layer, head = divmod(flat, self.num_heads)
                rows.append({"relation": label, "direction": name, "n": n, "layer": int(layers[layer]),
                             "head": int(head), "accuracy": float(accuracy[direction, layer, head]),
                             "baseline_offset": int(self.offsets[offset_index]),
                             "baseline_accuracy": float(baseline[offset_index]),
                             "mst_uuas": float(self.mst_correct[layer, head] / max(self.mst_total, 1))})
            keys = [(row["accuracy"], row["layer"], row["head"], index) for index, row in enumerate(rows)]
            chosen = max(keys)[-1]
            for index, row in enumerate(rows):
                row["best"] = index == chosen
            records += rows
        return pd.DataFrame.from_records(records, columns=[
            "relation", "direction", "n", "layer", "head", "accuracy", "baseline_offset", "baseline_accuracy",
            "mst_uuas", "best"])

    def plot(self, min_count: int | None = None, width: str | float = "column") -> Figure:
        """Per relation, the best head's accuracy (labelled ``layer-head``) beside the fixed-offset baseline.

        Parameters
        ----------
        min_count
            Smallest number of words a relation needs; default :attr:`min_count`.
        width
            ``"column"`` (default), ``"page"`` or inches.

        Returns
        -------
        matplotlib.figure.Figure

        Examples
        --------
        >>> [ax.get_xlabel() for ax in example_result().plot().axes]
        ['accuracy (%)']
        """
        frame = self.to_frame(min_count)
        frame = frame[frame["best"]].reset_index(drop=True)
        inches = figure_width(width)
        figure, ax = new_figure(inches, height=0.75 + 0.2 * len(frame))
        positions = np.arange(len(frame))
        bar = 0.38
        with paper_style():
            ax.barh(positions - bar / 2, 100 * frame["accuracy"], height=bar, color=PALETTE[0], label="best head")
            ax.barh(positions + bar / 2, 100 * frame["baseline_accuracy"], height=bar, color=PALETTE[1],
                    label="fixed offset")
            for position, row in frame.iterrows():
                arrow = "\u2192" if row["direction"] == "dep->head" else "\u2190"
                ax.text(100 * row["accuracy"] + 1, position - bar / 2, f"{row['layer']}-{row['head']} {arrow}",
                        va="center", ha="left", fontsize=5.5)
                ax.text(100 * row["baseline_accuracy"] + 1, position + bar / 2, f"{row['baseline_offset']:+d}",
                        va="center", ha="left", fontsize=5.5, color="0.35")
            labels = [f"{row['relation']} ({row['n']})" for _, row in frame.iterrows()]
            ax.set_yticks(positions, labels)
            ax.set_ylim(len(frame) - 0.5, -0.5)
            ax.set_xlim(0, 118)
            ax.set_xticks([0, 25, 50, 75, 100])
            ax.set_xlabel("accuracy (%)")
            ax.tick_params(axis="y", length=0)
            figure.legend(loc="outside upper left", ncol=2, handlelength=1, title_fontsize=6, alignment="left",
                          title="layer-head: \u2192 dependent attends to head, \u2190 head to dependent")
        return figure

    def _write(self, directory: Path) -> None:
        self.to_frame().to_csv(directory / TABLE_FILE, index=False)
        pd.DataFrame({"relation": self.relations, "n": self.counts}).to_csv(directory / RELATIONS_FILE, index=False)
        self.head_frame()[["direction", "layer", "head", "relation", "correct"]].to_csv(directory / HEADS_FILE,
                                                                                        index=False)
        self.baseline_frame()[["offset", "relation", "correct"]].to_csv(directory / BASELINE_FILE, index=False)
        self.mst_frame()[["layer", "head", "correct"]].to_csv(directory / MST_FILE, index=False)
        write_json_atomic(directory / META_FILE, {
            "layers": self.layers, "offsets": self.offsets, "mst_total": self.mst_total,
            "n_sentences": self.n_sentences, "left_out": self.left_out, "from_split": self.from_split,
            "min_count": self.min_count, "model": self.model})

    @classmethod
    def _read(cls, directory: Path) -> DependencyHeads:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        relations = pd.read_csv(directory / RELATIONS_FILE, keep_default_na=False)
        names = relations["relation"].astype(str).tolist()
        layers, offsets = [int(v) for v in meta["layers"]], [int(v) for v in meta["offsets"]]
        heads = pd.read_csv(directory / HEADS_FILE, keep_default_na=False)
        correct = heads["correct"].to_numpy(dtype=np.int64).reshape(len(DIRECTIONS), len(layers), -1, len(names))
        baseline = pd.read_csv(directory / BASELINE_FILE, keep_default_na=False)
        mst = pd.read_csv(directory / MST_FILE)
        return cls(names, relations["n"].to_numpy(dtype=np.int64), correct, layers, offsets,
                   baseline["correct"].to_numpy(dtype=np.int64).reshape(len(offsets), len(names)),
                   mst["correct"].to_numpy(dtype=np.int64).reshape(len(layers), -1), int(meta["mst_total"]),
                   int(meta["n_sentences"]), {k: int(v) for k, v in meta["left_out"].items()}, meta["from_split"],
                   int(meta["min_count"]), meta["model"])


def example_result() -> DependencyHeads:
    """A small :class:`DependencyHeads` built by hand (one layer, two heads, two relations).

    Examples
    --------
    >>> example_result().relations
    ['det', 'nsubj']
    """
    correct = np.array([[[[1, 0], [3, 2]]], [[[3, 1], [2, 0]]]], dtype=np.int64)
    return DependencyHeads(relations=["det", "nsubj"], counts=np.array([4, 3]), correct=correct, layers=[0],
                           offsets=[-1, 1], baseline_correct=np.array([[0, 1], [3, 0]]),
                           mst_correct=np.array([[2, 4]]), mst_total=4, n_sentences=2,
                           left_out={"too_long": 0, "unaligned": 0}, min_count=1)
