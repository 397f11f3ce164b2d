"""Amnesic probing (Elazar et al. 2021): erase a concept inside the forward pass and measure what changes downstream."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from bertology.analyses.erasure.erasure import CONDITIONS, Erasure, probe_accuracy, random_basis, split_rows
from bertology.core.data.dataset import ProbeDataset
from bertology.core.errors import InputError
from bertology.core.extraction.align import encode_corpus, pad_sequences
from bertology.core.extraction.features import auto_pool, layer_features
from bertology.core.hooks.edits import project_out
from bertology.core.hooks.intervene import intervene
from bertology.core.models import LoadedModel
from bertology.core.models.mlm import has_mlm_head, mlm_log_probs
from bertology.core.progress import progress_bar
from bertology.core.results import TableResult
from bertology.core.viz import PALETTE, new_figure
from bertology.core.viz.style import paper_style

MLM_METRICS = {"mlm_accuracy": "masked-token accuracy", "pll": "PLL per token"}
COLOURS = {"original": PALETTE[0], "erased": PALETTE[3], "random": PALETTE[1]}


class AmnesicResult(TableResult):
    """Downstream effect of erasing a concept inside the forward pass, against removing random directions.

    ``frame`` columns: ``task``, ``layer`` (hidden state probed; NaN for masked-LM rows),
    ``condition`` (``original``, ``erased``, ``random``), ``seed``, ``metric``
    (``accuracy`` of a fresh probe, ``mlm_accuracy``, ``pll``), ``value`` and ``majority``.
    """

    def summary(self) -> pd.DataFrame:
        """Mean and sd over the control seeds per task, metric, layer and condition.

        Examples
        --------
        >>> from tests.result_examples.erasure import examples
        >>> sorted(examples()[1].summary()["condition"].unique())
        ['erased', 'original', 'random']
        """
        frame = self.frame.assign(layer=self.frame["layer"].fillna(-1))
        grouped = frame.groupby(["task", "metric", "layer", "condition"], sort=False)["value"]
        return grouped.agg(mean="mean", sd="std").reset_index()

    def plot(self) -> Figure:
        """Bars per layer (original, erased, random mean ± sd) for each task, and the masked-LM metrics if present.

        Examples
        --------
        >>> from tests.result_examples.erasure import examples
        >>> len(examples()[1].plot().axes)
        2
        """
        summary = self.summary()
        probes = summary[summary["metric"] == "accuracy"]
        tasks = list(dict.fromkeys(probes["task"]))
        lm = summary[summary["metric"].isin(list(MLM_METRICS))]
        panels = len(tasks) + (not lm.empty)
        with paper_style():
            figure, axes = new_figure("column" if panels == 1 else "page", height=2.4, ncols=panels, squeeze=False)
            for ax, task in zip(axes[0], tasks):
                rows = probes[probes["task"] == task]
                layers = sorted(rows["layer"].unique())
                for offset, condition in zip((-0.27, 0.0, 0.27), CONDITIONS):
                    part = rows[rows["condition"] == condition].set_index("layer").reindex(layers)
                    ax.bar(np.arange(len(layers)) + offset, part["mean"], width=0.27, color=COLOURS[condition],
                           yerr=part["sd"].fillna(0) if condition == "random" else None, capsize=1.5,
                           label=self._label(condition), edgecolor="none")
                majority = self.frame.loc[self.frame["task"] == task, "majority"].dropna()
                if len(majority):
                    ax.axhline(float(majority.iloc[0]), color="0.3", linestyle="--", linewidth=1, label="majority")
                ax.set_xticks(range(len(layers)), [str(int(layer)) for layer in layers])
                ax.set_xlabel("hidden state probed")
                ax.set_ylabel("probe accuracy")
                ax.set_ylim(0, 1.22)
                ax.set_yticks(np.linspace(0, 1, 6))
                ax.set_title(task)
            if not lm.empty:
                ax = axes[0][-1]
                metric = "mlm_accuracy" if "mlm_accuracy" in set(lm["metric"]) else "pll"
                rows = lm[lm["metric"] == metric].set_index("condition").reindex(list(CONDITIONS))
                ax.bar(range(len(CONDITIONS)), rows["mean"], color=[COLOURS[c] for c in CONDITIONS],
                       yerr=rows["sd"].fillna(0), capsize=2, edgecolor="none")
                ax.set_xticks(range(len(CONDITIONS)), [self._label(c) for c in CONDITIONS])
                ax.set_ylabel(MLM_METRICS[metric])
                ax.set_title("masked LM")
            axes[0][0].legend(loc="upper center", ncols=4, fontsize=6, handlelength=1.2, columnspacing=0.8)
            rank = self.meta.get("rank")
            figure.suptitle(f"amnesic probing: {self.meta.get('method', '').upper()} at hidden state "
                            f"{self.meta.get('layer')} ({rank} direction{'s' * (rank != 1)} removed)", fontsize=8)
        return figure

    def _label(self, condition: str) -> str:
        return {"original": "original", "erased": f"{self.meta.get('method', 'erased').upper()}",
                "random": "random dirs"}[condition]


def erasure_edits(erasure: Erasure, num_layers: int, controls: int, seed: int
                  ) -> dict[tuple[str, int], dict[str, Callable] | None]:
    """``{(condition, seed): intervene edits}``: none, the eraser, and ``controls`` random-direction removals.

    INLP's eraser is an orthogonal projection and runs as :func:`~bertology.project_out`
    of its basis; LEACE's oblique affine map runs as :meth:`Erasure.edit`. Each control
    removes as many uniformly drawn random directions (Elazar et al.'s control).

    Examples
    --------
    >>> e = Erasure("inlp", 1, np.eye(3)[:, :1], np.eye(3)[:1], np.zeros(3), pd.DataFrame())
    >>> sorted(erasure_edits(e, 2, controls=2, seed=0))
    [('erased', 0), ('original', 0), ('random', 0), ('random', 1)]
    """
    name = erasure.hook_name(num_layers)
    edits: dict[tuple[str, int], dict[str, Callable] | None] = {("original", seed): None}
    if not erasure.rank:
        edits[("erased", seed)] = None
        edits.update({("random", seed + j): None for j in range(controls)})
        return edits
    edits[("erased", seed)] = {name: project_out(erasure.basis().T) if erasure.method == "inlp" else erasure.edit()}
    for j in range(controls):
        edits[("random", seed + j)] = {name: project_out(random_basis(erasure.dim, erasure.rank, seed + j).T)}
    return edits


def masked_lm_scores(model: LoadedModel, texts: Sequence[str], batch_size: int = 32, progress: bool = True
                     ) -> tuple[float, float]:
    """Masked-token accuracy and mean log-probability per token (PLL / tokens, Salazar et al. 2020).

    Every non-special token of every text is masked on its own copy and predicted; the
    copies run ``batch_size`` at a time. Edits active around the call apply.

    Examples
    --------
    >>> import tempfile, pathlib, bertology as bt
    >>> from tests.tiny_models import build_context_mlm
    >>> m = bt.load_model(str(build_context_mlm("bert", pathlib.Path(tempfile.mkdtemp()))), head="mlm")
    >>> accuracy, pll = masked_lm_scores(m, ["the boys are here"], progress=False)
    >>> 0 <= accuracy <= 1 and pll < 0
    True
    """
    corpus = encode_corpus(model.tokenizer, list(texts), model.max_length, truncate=True)
    special = set(model.tokenizer.all_special_ids)
    copies = [(row, position) for row, ids in enumerate(corpus.input_ids)
              for position, token in enumerate(ids) if token not in special]
    if not copies:
        raise InputError("The texts hold no token to mask: give sentences for the masked-LM scores.")
    correct, total = 0, 0.0
    mask_id = model.tokenizer.mask_token_id
    for start in progress_bar(range(0, len(copies), batch_size), desc="masked LM", unit="batch", progress=progress):
        chunk = copies[start:start + batch_size]
        ids, attention = pad_sequences([corpus.input_ids[row] for row, _ in chunk], model.tokenizer.pad_token_id)
        rows = torch.arange(len(chunk))
        positions = torch.tensor([position for _, position in chunk])
        targets = ids[rows, positions].clone()
        ids[rows, positions] = mask_id
        inputs = {"input_ids": ids.to(model.device), "attention_mask": attention.long().to(model.device)}
        if model.adapter.uses_token_type_ids:
            inputs["token_type_ids"] = torch.zeros_like(inputs["input_ids"])
        with torch.inference_mode():
            log_probs = mlm_log_probs(model, inputs, positions)
        targets = targets.to(log_probs.device)
        correct += int((log_probs.argmax(-1) == targets).sum())
        total += float(log_probs[rows.to(log_probs.device), targets].double().sum())
    return correct / len(copies), total / len(copies)


def _resolve_layers(layers: str | Sequence[int], erasure: Erasure, num_layers: int) -> list[int]:
    if layers == "after":
        return list(range(erasure.layer, num_layers + 1))
    if isinstance(layers, str):
        raise InputError(f"layers={layers!r}: give 'after' (the erased hidden state and every later one) or a list.")
    chosen = sorted({int(k) % (num_layers + 1) for k in layers})
    early = [k for k in chosen if k < erasure.layer]
    if early or not chosen:
        raise InputError(f"layers {early or layers} come before the erased hidden state {erasure.layer}: an eraser "
                         "only changes that state and later ones.")
    return chosen


def amnesic_probe(model: LoadedModel, erasure: Erasure, tasks: ProbeDataset | Sequence[ProbeDataset],
                  layers: str | Sequence[int] = "after", pool: str = "auto", controls: int = 3, seed: int = 0,
                  texts: Sequence[str] | None = None, batch_size: int = 32, progress: bool = True) -> AmnesicResult:
    """Amnesic probing: apply the eraser inside the forward pass and measure the downstream change.

    Elazar et al. (2021, "Amnesic Probing: Behavioral Explanation with Amnesic
    Counterfactuals"): the fitted eraser runs at its hidden state on every token during the
    forward pass (:func:`~bertology.intervene`), so every later layer computes from erased
    input. For each task, a fresh logistic probe is trained and tested on each later hidden
    state; with a masked-LM head, the masked-token accuracy and PLL per token of ``texts``
    are measured too. The control removes as many random directions at the same place
    (``controls`` draws): a drop beyond the control's shows the model uses the concept.

    Parameters
    ----------
    model
        The model the eraser was fitted on.
    erasure
        From :func:`~bertology.analyses.erasure.erasure.erase`.
    tasks
        Labelled datasets probed downstream (their split, else a stratified 80/20 one).
    layers
        ``"after"`` (the erased hidden state and all later ones) or hidden-state indices.
    pool
        Pooling of the probed features.
    controls
        Random-direction draws (seeds ``seed``, ``seed + 1``...).
    seed
        Seed of the splits and of the first control.
    texts
        Sentences for the masked-LM scores; default the tasks' texts (at most 200).
        Ignored without a masked-LM head.
    batch_size, progress
        Sentences (masked copies) per forward pass; progress bars.

    Returns
    -------
    AmnesicResult

    Raises
    ------
    InputError
        An eraser of another width than the model, layers before the erased one, no task.

    Examples
    --------
    >>> import bertology as bt
    >>> m = bt.load_model("minilm")
    >>> d = bt.data.load_dataset("coarsewsd20", word="bank")
    >>> er = bt.erase(m, d, layer=3, progress=False)
    >>> r = bt.amnesic_probe(m, er, [d], layers=[3, 6], controls=2, progress=False)
    >>> sorted(r.to_frame()["condition"].unique())
    ['erased', 'original', 'random']
    """
    listed = [tasks] if isinstance(tasks, ProbeDataset) else list(tasks)
    if not listed or not all(isinstance(task, ProbeDataset) for task in listed):
        raise InputError("tasks must be a ProbeDataset or a non-empty list of them (bertology.data.load_dataset).")
    if erasure.dim != model.hidden_size:
        raise InputError(f"The eraser works on {erasure.dim} features but the model's hidden size is "
                         f"{model.hidden_size}: fit it on this model with bt.erase.")
    if isinstance(controls, bool) or not isinstance(controls, (int, np.integer)) or controls < 1:
        raise InputError(f"controls must be a whole number of at least 1, got {controls!r}.")
    chosen = _resolve_layers(layers, erasure, model.num_layers)
    lm_texts = list(texts) if texts is not None else list(dict.fromkeys(t for task in listed for t in task.texts))[:200]
    rows = []
    for (condition, run_seed), edits in erasure_edits(erasure, model.num_layers, controls, seed).items():
        with intervene(model, edits) if edits else nullcontext():
            for task in listed:
                features, valid = layer_features(model, task, layers=chosen, pool=pool, batch_size=batch_size,
                                                 progress=progress)
                train, test = split_rows(task, valid, seed)
                majority = float(np.bincount(task.labels[test]).max() / len(test))
                for layer in chosen:
                    x = features[layer]
                    rows.append((task.name, layer, condition, run_seed, "accuracy",
                                 probe_accuracy(x[train], task.labels[train], x[test], task.labels[test]), majority))
            if has_mlm_head(model) and lm_texts:
                with torch.inference_mode():
                    accuracy, pll = masked_lm_scores(model, lm_texts, batch_size, progress)
                rows += [("masked LM", np.nan, condition, run_seed, "mlm_accuracy", accuracy, np.nan),
                         ("masked LM", np.nan, condition, run_seed, "pll", pll, np.nan)]
    frame = pd.DataFrame(rows, columns=["task", "layer", "condition", "seed", "metric", "value", "majority"])
    meta = {"model": model.name, "method": erasure.method, "layer": erasure.layer, "rank": erasure.rank,
            "hook": erasure.hook_name(model.num_layers), "tasks": [task.name for task in listed],
            "pool": [auto_pool(pool, task) for task in listed], "controls": controls, "seed": seed,
            "n_texts": len(lm_texts) if has_mlm_head(model) else 0}
    return AmnesicResult(frame, meta)
