"""Fit a concept eraser on one layer's features: the :class:`Erasure` result and :func:`erase`."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg
import torch
from matplotlib.figure import Figure
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from bertology.analyses.erasure.inlp import inlp_fit, nullspace_intersection_basis, rowspace_projection
from bertology.analyses.erasure.leace import check_concept_data, leace_fit
from bertology.analyses.erasure.names import METHODS
from bertology.core.data.dataset import ProbeDataset
from bertology.core.errors import InputError
from bertology.core.extraction.features import auto_pool, layer_features
from bertology.core.hooks.names import hidden_index, hidden_state_name
from bertology.core.io import write_json_atomic
from bertology.core.models import LoadedModel
from bertology.core.results import META_FILE, TABLE_FILE, Result
from bertology.core.viz import PALETTE, new_figure
from bertology.core.viz.style import paper_style

MATRICES_FILE = "eraser.npz"
CONDITIONS = ("original", "erased", "random")


def probe_accuracy(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> float:
    """Test accuracy of a fresh logistic-regression probe (L2, C = 1) trained on ``x_train``.

    Examples
    --------
    >>> x = np.array([[0.0], [1.0], [0.1], [0.9]]); y = np.array([0, 1, 0, 1])
    >>> probe_accuracy(x, y, x, y)
    1.0
    """
    if len(np.unique(y_train)) < 2:
        return float(np.mean(y_test == y_train[0]))
    return float(LogisticRegression(max_iter=2000).fit(x_train, y_train).score(x_test, y_test))


def split_rows(data: ProbeDataset, valid: np.ndarray, seed: int, test_size: float = 0.2) -> tuple[np.ndarray, ...]:
    """Train and test row indices among the ``valid`` items: the dataset's split, else a stratified random one.

    Raises
    ------
    InputError
        A class with fewer than two items (no stratified split), or an official split
        missing one side.

    Examples
    --------
    >>> d = ProbeDataset(list("abcdefgh"), np.array([0, 1] * 4), ["x", "y"])
    >>> train, test = split_rows(d, np.ones(8, bool), seed=0, test_size=0.25)
    >>> len(train), len(test)
    (6, 2)
    """
    rows = np.flatnonzero(valid)
    if data.split is not None:
        split = np.asarray(data.split)[rows]
        train, test = rows[split == "train"], rows[split == "test"]
        if not len(train) or not len(test):
            raise InputError(f"Dataset {data.name!r} has a split without both 'train' and 'test' items.")
        return train, test
    try:
        train, test = train_test_split(rows, test_size=test_size, random_state=seed, stratify=data.labels[rows])
    except ValueError:
        raise InputError(f"Dataset {data.name!r} needs at least two items of every class (and enough items for "
                         "a stratified 80/20 split) to fit and test an eraser.") from None
    return np.sort(train), np.sort(test)


def random_basis(dim: int, rank: int, seed: int) -> np.ndarray:
    """Orthonormal basis ``(dim, rank)`` of ``rank`` random directions, drawn as in Elazar et al.'s control.

    Directions are uniform in ``[-0.5, 0.5]^dim`` (their ``rand_direction_control``);
    the basis spans them (Ben-Israel's formula, as for INLP).

    Examples
    --------
    >>> b = random_basis(5, 2, seed=0)
    >>> b.shape, bool(np.allclose(b.T @ b, np.eye(2)))
    ((5, 2), True)
    """
    if rank == 0:
        return np.zeros((dim, 0))
    directions = np.random.default_rng(seed).random((rank, dim)) - 0.5
    return nullspace_intersection_basis([rowspace_projection(v[None]) for v in directions], dim)


class Erasure(Result):
    """A fitted concept eraser for one layer: ``r(x) = x − (x − bias) Rᵀ Lᵀ``.

    LEACE (Belrose et al. 2023) is an oblique affine map with ``bias`` the feature mean;
    INLP (Ravfogel et al. 2020) is the orthogonal projection ``x − x B Bᵀ`` (``L = B``,
    ``R = Bᵀ``, no bias). ``to_frame()`` lists a fresh probe's test accuracy on the
    original features, on the erased ones and after removing as many random directions
    (one row per control seed), with the majority-class rate.

    Attributes
    ----------
    method
        ``"leace"`` or ``"inlp"``.
    layer
        Hidden-state index the eraser was fitted on (0 = embeddings).
    proj_left, proj_right
        ``(d, r)`` and ``(r, d)`` factors of the erased subspace.
    bias
        ``(d,)`` centre of the affine map (zeros for INLP).
    frame
        The accuracy table.
    meta
        Model, dataset, pooling, sizes, INLP accuracies per iteration.
    """

    def __init__(self, method: str, layer: int, proj_left: np.ndarray, proj_right: np.ndarray, bias: np.ndarray,
                 frame: pd.DataFrame, meta: dict[str, Any] | None = None) -> None:
        self.method = method
        self.layer = int(layer)
        self.proj_left = np.asarray(proj_left, dtype=np.float64)
        self.proj_right = np.asarray(proj_right, dtype=np.float64)
        self.bias = np.asarray(bias, dtype=np.float64)
        self.frame = frame
        self.meta = dict(meta or {})

    def __repr__(self) -> str:
        return (f"Erasure(method={self.method!r}, layer={self.layer}, dim={self.dim}, rank={self.rank})")

    @property
    def dim(self) -> int:
        """Width of the features."""
        return int(self.proj_left.shape[0])

    @property
    def rank(self) -> int:
        """Number of erased directions."""
        return int(self.proj_left.shape[1])

    def transform(self, features: np.ndarray) -> np.ndarray:
        """Erase the concept from ``(..., d)`` features (numpy).

        Examples
        --------
        >>> e = Erasure("inlp", 1, np.array([[1.0], [0.0]]), np.array([[1.0, 0.0]]), np.zeros(2), pd.DataFrame())
        >>> e.transform(np.array([[3.0, 4.0]])).tolist()
        [[0.0, 4.0]]
        """
        x = np.asarray(features, dtype=np.float64)
        return x - ((x - self.bias) @ self.proj_right.T) @ self.proj_left.T

    def edit(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """The eraser as an edit for :func:`bertology.intervene`: ``(..., d)`` tensor in, erased tensor out.

        Computed in float64 (whitening factors of a nearly singular covariance lose
        precision in float32) and returned in the tensor's dtype.

        Examples
        --------
        >>> e = Erasure("inlp", 1, np.array([[1.0], [0.0]]), np.array([[1.0, 0.0]]), np.zeros(2), pd.DataFrame())
        >>> e.edit()(torch.tensor([[[3.0, 4.0]]])).tolist()
        [[[0.0, 4.0]]]
        """
        cache: dict[torch.device, tuple[torch.Tensor, ...]] = {}

        def erase_tensor(tensor: torch.Tensor) -> torch.Tensor:
            if tensor.device not in cache:
                cache[tensor.device] = tuple(torch.as_tensor(a, device=tensor.device, dtype=torch.float64)
                                             for a in (self.proj_left, self.proj_right, self.bias))
            left, right, bias = cache[tensor.device]
            change = ((tensor.double() - bias) @ right.T) @ left.T  # float64: LEACE's factors can be ill-conditioned
            return (tensor.double() - change).to(tensor.dtype)

        return erase_tensor

    def basis(self) -> np.ndarray:
        """Orthonormal basis ``(d, r)`` of the directions the eraser changes (the span of ``proj_left``).

        Examples
        --------
        >>> e = Erasure("inlp", 1, np.array([[2.0], [0.0]]), np.array([[0.5, 0.0]]), np.zeros(2), pd.DataFrame())
        >>> e.basis().ravel().tolist()
        [1.0, 0.0]
        """
        if not self.rank:
            return np.zeros((self.dim, 0))
        return scipy.linalg.orth(self.proj_left)

    def hook_name(self, num_layers: int) -> str:
        """Canonical activation name of this layer's hidden state (``embeddings`` or ``layers.{i}.resid_post``).

        Examples
        --------
        >>> Erasure("leace", 3, np.zeros((2, 0)), np.zeros((0, 2)), np.zeros(2), pd.DataFrame()).hook_name(6)
        'layers.2.resid_post'
        """
        return hidden_state_name(self.layer, num_layers)

    def to_frame(self) -> pd.DataFrame:
        """Probe accuracy per condition (``original``, ``erased``, ``random``) with the majority rate."""
        return self.frame.copy()

    def plot(self) -> Figure:
        """Bars of a fresh probe's accuracy: original, erased, random-direction control (mean ± sd), majority line.

        Examples
        --------
        >>> t = pd.DataFrame({"condition": ["original", "erased", "random"], "seed": [0, 0, 0],
        ...                   "accuracy": [0.9, 0.5, 0.88], "majority": 0.5})
        >>> e = Erasure("leace", 2, np.zeros((2, 1)), np.zeros((1, 2)), np.zeros(2), t)
        >>> e.plot().axes[0].get_ylabel()
        'probe accuracy'
        """
        with paper_style():
            figure, axes = new_figure(height=2.3)
            _draw_condition_bars(axes, self.frame, 0.0, 0.8)
            axes.set_xticks(range(len(CONDITIONS)), ["original", self.method.upper(),
                                                     f"random\n({self.rank} dir{'s' * (self.rank != 1)})"])
            axes.axhline(float(self.frame["majority"].iloc[0]), color="0.3", linestyle="--", linewidth=1,
                         label="majority class")
            axes.set_ylabel("probe accuracy")
            axes.set_ylim(0, 1.15)
            axes.set_yticks(np.linspace(0, 1, 6))
            axes.set_title(f"{self.meta.get('dataset', 'concept')}: hidden state {self.layer}")
            axes.legend(loc="upper center")
        return figure

    def _write(self, directory: Path) -> None:
        np.savez(directory / MATRICES_FILE, proj_left=self.proj_left, proj_right=self.proj_right, bias=self.bias)
        self.frame.to_csv(directory / TABLE_FILE, index=False)
        write_json_atomic(directory / META_FILE, {**self.meta, "method": self.method, "layer": self.layer})

    @classmethod
    def _read(cls, directory: Path) -> Erasure:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        with np.load(directory / MATRICES_FILE) as arrays:
            left, right, bias = arrays["proj_left"], arrays["proj_right"], arrays["bias"]
        return cls(meta.pop("method"), meta.pop("layer"), left, right, bias, pd.read_csv(directory / TABLE_FILE), meta)


def _draw_condition_bars(axes, frame: pd.DataFrame, offset: float, width: float, label: str | None = None) -> None:
    """Bars for original / erased / random (mean ± sd over control seeds) at x = 0, 1, 2 (+ offset)."""
    colours = {"original": PALETTE[0], "erased": PALETTE[3], "random": PALETTE[1]}
    for x, condition in enumerate(CONDITIONS):
        values = frame.loc[frame["condition"] == condition, "accuracy"].to_numpy(dtype=float)
        if not len(values):
            continue
        error = values.std(ddof=1) if len(values) > 1 else None
        axes.bar(x + offset, values.mean(), width=width, color=colours[condition], yerr=error, capsize=2,
                 edgecolor="none", label=label)


def check_erase_arguments(method: str, n_iterations: int, controls: int) -> None:
    """Options of :func:`erase` checked before any model work.

    Examples
    --------
    >>> check_erase_arguments("pca", 10, 3)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: ...
    """
    if method not in METHODS:
        raise InputError(f"method={method!r} is not an erasure method: choose one of {', '.join(METHODS)}.")
    for name, value, minimum in (("n_iterations", n_iterations, 1), ("controls", controls, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise InputError(f"{name} must be a whole number of at least {minimum}, got {value!r}.")


def fit_eraser(method: str, x_train: np.ndarray, y_train: np.ndarray, x_dev: np.ndarray, y_dev: np.ndarray,
               n_iterations: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float]]:
    """``(proj_left, proj_right, bias, inlp accuracies)`` of LEACE (fitted on the training items) or INLP.

    Examples
    --------
    >>> rng = np.random.default_rng(0); y = rng.integers(0, 2, 100); x = rng.normal(size=(100, 4)) + y[:, None]
    >>> left, right, bias, _ = fit_eraser("leace", x, y, x, y)
    >>> left.shape, right.shape, bias.shape
    ((4, 1), (1, 4), (4,))
    """
    if method == "leace":
        left, right, bias = leace_fit(x_train, y_train)
        return left, right, bias, []
    basis, accuracies = inlp_fit(x_train, y_train, x_dev, y_dev, n_iterations=n_iterations, seed=seed)
    return basis, basis.T, np.zeros(basis.shape[0]), accuracies


def erase(model: LoadedModel | Mapping[int, np.ndarray], data: ProbeDataset, layer: int, method: str = "leace",
          pool: str = "auto", seed: int = 0, n_iterations: int = 50, controls: int = 3, batch_size: int = 32,
          progress: bool = True) -> Erasure:
    """Fit a concept eraser on one layer's features of a labelled dataset.

    LEACE (Belrose et al. 2023, "LEACE: Perfect linear concept erasure in closed form") is
    fitted on the training items in closed form (:func:`~bertology.analyses.erasure.leace.leace_fit`);
    INLP (Ravfogel et al. 2020, "Null it out") trains linear classifiers on the training
    items and stops when one scores at the majority rate on the test items
    (:func:`~bertology.analyses.erasure.inlp.inlp_fit`). A fresh logistic probe is then
    trained and tested on the original features, on the erased ones, and after removing
    as many random directions (``controls`` seeds; the control of Elazar et al. 2021).

    Parameters
    ----------
    model
        A :class:`~bertology.LoadedModel`, or features ``{layer: (n, d) array}`` aligned with ``data``.
    data
        The labelled items; its train/test split is used when it has one, else a stratified 80/20 split.
    layer
        Hidden-state index (0 = embeddings, ``k`` = output of layer ``k``; negative counts from the end).
    method
        ``"leace"`` or ``"inlp"``.
    pool
        Pooling of the features (``"auto"``: ``word_mean`` for word-level data, else ``cls``).
    seed
        Seed of the split and the classifiers; control ``j`` uses seed ``seed + j``.
    n_iterations
        Most INLP classifiers.
    controls
        Random-direction control draws.
    batch_size, progress
        Passed to the extraction.

    Returns
    -------
    Erasure

    Raises
    ------
    InputError
        An unknown method, a bad count, a layer out of range, a single class or a class too
        small to split.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> labels = rng.integers(0, 2, 200)
    >>> feats = {2: (rng.normal(size=(200, 8)) + 2 * labels[:, None]).astype("float32")}
    >>> d = ProbeDataset([f"s{i}" for i in range(200)], labels, ["a", "b"])
    >>> er = erase(feats, d, layer=2, method="leace")
    >>> er.rank, bool(er.to_frame().set_index("condition").loc["erased", "accuracy"] < 0.7)
    (1, True)
    """
    check_erase_arguments(method, n_iterations, controls)
    check_concept_data(np.zeros((len(data), 1)), data.labels)
    if isinstance(model, LoadedModel):
        layer = hidden_index(layer, model.num_layers)
    features, valid = layer_features(model, data, layers=[layer], pool=pool, batch_size=batch_size,
                                     progress=progress)
    x = np.asarray(features[layer])
    train, test = split_rows(data, valid, seed)
    y = data.labels
    left, right, bias, accuracies = fit_eraser(method, x[train], y[train], x[test], y[test], n_iterations, seed)
    erasure = Erasure(method, layer, left, right, bias, pd.DataFrame())
    majority = float(np.bincount(y[test]).max() / len(test))
    rows = [("original", seed, probe_accuracy(x[train], y[train], x[test], y[test]))]
    erased = erasure.transform(x)
    rows.append(("erased", seed, probe_accuracy(erased[train], y[train], erased[test], y[test])))
    for offset in range(controls):
        basis = random_basis(x.shape[1], erasure.rank, seed + offset)
        removed = x - (x @ basis) @ basis.T
        rows.append(("random", seed + offset, probe_accuracy(removed[train], y[train], removed[test], y[test])))
    erasure.frame = pd.DataFrame(rows, columns=["condition", "seed", "accuracy"]).assign(majority=majority)
    erasure.meta = {"model": getattr(model, "name", None), "dataset": data.name, "pool": auto_pool(pool, data),
                    "seed": seed, "n_train": int(len(train)), "n_test": int(len(test)), "rank": erasure.rank,
                    "dim": int(x.shape[1]), "inlp_accuracies": accuracies, "label_names": list(data.label_names)}
    return erasure
