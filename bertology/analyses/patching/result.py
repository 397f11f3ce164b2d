"""The :class:`PatchingResult`: per-component indirect and direct effects, per-pair total effects, heatmaps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bertology.core.errors import InputError
from bertology.core.io import write_json_atomic
from bertology.core.results import META_FILE, Result
from bertology.core.viz import new_figure
from bertology.core.viz.style import DIVERGING_CMAP, paper_style

EFFECTS_FILE = "effects.csv"
PAIRS_FILE = "pairs.csv"
ROLES = ("start", "before", "changed", "between", "mask", "after", "end")
"""Position roles, in the order the layer × position heatmap shows them (Meng et al. 2022 group tokens so)."""
EFFECT_COLUMNS = ("pair", "condition", "component", "layer", "position", "head", "role", "base_token",
                  "counterfactual_token", "indirect_effect", "direct_effect")
PAIR_COLUMNS = ("pair", "condition", "base", "counterfactual", "candidates", "n_tokens", "metric_base",
                "metric_counterfactual", "total_effect")
METRIC_LABELS = {"logprob_diff": "log P(a) − log P(b)", "logprob": "log P(a)", "probability": "P(label)"}


class PatchingResult(Result):
    """Causal mediation by activation patching (Vig et al. 2020; Meng et al. 2022).

    With ``y(x)`` the metric on input ``x``, the base input ``u`` and its counterfactual
    ``u'``: total effect ``TE = y(u') − y(u)``; the indirect effect of component ``z`` is
    ``y(u | z ← z(u')) − y(u)`` (only ``z`` takes its counterfactual value); the direct
    effect is ``y(u' | z ← z(u)) − y(u)`` (everything but ``z`` does).

    Attributes
    ----------
    effects
        One row per pair and component: ``component`` (``resid``/``heads``), ``layer``
        (hidden-state index for ``resid``, 0 = embeddings; layer index for ``heads``),
        ``position`` (``resid``; else −1), ``head`` (``heads``; else −1), ``role`` of the
        position, the tokens there, ``indirect_effect`` and ``direct_effect``.
    pairs
        One row per pair: sentences, candidates, metric on each input, ``total_effect``.
    meta
        Model, suite, metric, components, counts of pairs used and left out.
    """

    def __init__(self, effects: pd.DataFrame, pairs: pd.DataFrame, meta: dict[str, Any] | None = None) -> None:
        self.effects = effects
        self.pairs = pairs
        self.meta = dict(meta or {})

    def __repr__(self) -> str:
        return (f"PatchingResult({len(self.pairs)} pairs, components={sorted(set(self.effects['component']))}, "
                f"metric={self.meta.get('metric')!r})")

    def to_frame(self) -> pd.DataFrame:
        """The effects table with each pair's ``total_effect``.

        Examples
        --------
        >>> from tests.result_examples.patching import examples
        >>> examples()[0].to_frame().columns[-1]
        'total_effect'
        """
        return self.effects.merge(self.pairs[["pair", "total_effect"]], on="pair", how="left")

    def mean_effects(self, component: str = "resid", effect: str = "indirect_effect") -> pd.DataFrame:
        """Mean effect over pairs: layer × role (``resid``; layer × token for a single pair) or layer × head.

        Examples
        --------
        >>> from tests.result_examples.patching import examples
        >>> examples()[0].mean_effects("heads").shape
        (2, 2)
        """
        rows = self.effects[self.effects["component"] == component]
        if rows.empty:
            raise InputError(f"The result has no {component!r} components: it has "
                             f"{sorted(set(self.effects['component']))}.")
        if component == "heads":
            return rows.pivot_table(index="layer", columns="head", values=effect, aggfunc="mean")
        if self.pairs.shape[0] == 1:
            labels = rows["position"].astype(str) + " " + np.where(
                rows["base_token"] == rows["counterfactual_token"], rows["base_token"],
                rows["base_token"] + "→" + rows["counterfactual_token"])
            table = rows.assign(token=labels).pivot_table(index="layer", columns=["position", "token"],
                                                           values=effect, aggfunc="mean")
            table.columns = [token for _, token in table.columns]
            return table
        table = rows.pivot_table(index="layer", columns="role", values=effect, aggfunc="mean")
        return table[[role for role in ROLES if role in table.columns]]

    def plot(self, component: str | None = None, effect: str = "indirect_effect") -> Figure:
        """Heatmap of the mean effect: position × layer (``resid``) and/or layer × head (``heads``).

        Parameters
        ----------
        component
            ``"resid"``, ``"heads"`` or ``None`` for every component present (one panel each).
        effect
            ``"indirect_effect"`` or ``"direct_effect"``.

        Examples
        --------
        >>> from tests.result_examples.patching import examples
        >>> len(examples()[0].plot().axes)
        4
        """
        present = [c for c in ("resid", "heads") if c in set(self.effects["component"])]
        chosen = present if component is None else [component]
        tables = [self.mean_effects(c, effect) for c in chosen]
        limit = max(float(np.nanmax(np.abs(t.to_numpy()))) for t in tables) or 1.0
        label = f"{effect.replace('_', ' ')} on {METRIC_LABELS.get(self.meta.get('metric'), 'the metric')}"
        with paper_style():
            figure, axes = new_figure("page" if len(chosen) > 1 else "column",
                                      height=2.6, ncols=len(chosen), squeeze=False)
            for ax, kind, table in zip(axes[0], chosen, tables):
                values = table.to_numpy(dtype=float)
                if kind == "resid":
                    image = ax.imshow(values.T, aspect="auto", cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit,
                                      interpolation="nearest")
                    ax.set_yticks(range(len(table.columns)), [str(c) for c in table.columns])
                    ax.set_xticks(range(len(table.index)), [str(i) for i in table.index])
                    ax.set_xlabel("hidden state (0 = embeddings)")
                    ax.set_ylabel("token" if self.pairs.shape[0] == 1 else "position")
                    ax.set_title("residual stream")
                else:
                    image = ax.imshow(values, aspect="auto", cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit,
                                      origin="lower", interpolation="nearest")
                    ax.set_xticks(range(len(table.columns)), [str(h) for h in table.columns])
                    ax.set_yticks(range(len(table.index)), [str(i) for i in table.index])
                    ax.set_xlabel("head")
                    ax.set_ylabel("layer")
                    ax.set_title("attention heads")
                for spine in ax.spines.values():
                    spine.set_visible(False)
                figure.colorbar(image, ax=ax, shrink=0.9).set_label(label)
            n = self.pairs.shape[0]
            figure.suptitle(f"{self.meta.get('suite') or 'pairs'}: mean over {n} pair{'s' * (n != 1)}, "
                            f"mean total effect {self.pairs['total_effect'].mean():.2f}", fontsize=8)
        return figure

    def _write(self, directory: Path) -> None:
        self.effects.to_csv(directory / EFFECTS_FILE, index=False)
        self.pairs.to_csv(directory / PAIRS_FILE, index=False)
        write_json_atomic(directory / META_FILE, self.meta)

    @classmethod
    def _read(cls, directory: Path) -> PatchingResult:
        keep = {"keep_default_na": False}
        effects = pd.read_csv(directory / EFFECTS_FILE, dtype={"base_token": str, "counterfactual_token": str,
                                                                "role": str, "pair": str, "condition": str}, **keep)
        pairs = pd.read_csv(directory / PAIRS_FILE, dtype={"pair": str, "condition": str, "candidates": str,
                                                           "base": str, "counterfactual": str}, **keep)
        return cls(effects, pairs, json.loads((directory / META_FILE).read_text(encoding="utf-8")))
