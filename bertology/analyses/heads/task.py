"""The heads task: importance, pruning curve and (optionally) leave-one-out ablation, saved with figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from bertology.analyses.heads.importance import head_importance
from bertology.analyses.heads.objective import texts_and_labels
from bertology.analyses.heads.pruning import ablation_scores, prune_heads
from bertology.analyses.heads.result import HeadAblation, HeadImportance, PruningCurve
from bertology.core.data.loaders import load_dataset
from bertology.core.errors import InputError
from bertology.core.models import LoadedModel, load_model
from bertology.core.paths import check_output
from bertology.core.viz.style import save_figure

IMPORTANCE_DIR, PRUNING_DIR, ABLATION_DIR = "importance", "pruning", "ablation"
TASK_LOSSES = ("classifier", "mlm", "cloze")


def check_heads_arguments(loss: str, metric: str, per: str, steps: int, random_orders: int, batch_size: int,
                          mask_prob: float, max_sentences: int | None) -> None:
    """Check the task's scalar arguments before any model loads.

    Examples
    --------
    >>> check_heads_arguments("mlm", "loss", "token", 10, 5, 32, 0.15, None)
    >>> check_heads_arguments("ppl", "loss", "token", 10, 5, 32, 0.15, None)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: loss='ppl' ...
    """
    if loss not in TASK_LOSSES:
        raise InputError(f"loss={loss!r} is not a heads task loss: use 'classifier' (a model with a "
                         "sequence-classification head), 'mlm' or 'cloze' (a masked-LM head).")
    if metric not in ("accuracy", "loss"):
        raise InputError(f"metric={metric!r} must be 'accuracy' or 'loss'.")
    if per not in ("example", "token"):
        raise InputError(f"per={per!r} must be 'example' or 'token'.")
    for name, value, low in (("steps", steps, 1), ("random_orders", random_orders, 0), ("batch_size", batch_size, 1)):
        if value < low:
            raise InputError(f"{name}={value} must be at least {low}.")
    if not 0 < mask_prob <= 1:
        raise InputError(f"mask_prob={mask_prob} must be in (0, 1].")
    if max_sentences is not None and max_sentences < 1:
        raise InputError(f"max_sentences={max_sentences} must be at least 1 (or None for all).")


def heads_task(model: str | LoadedModel, out: str | Path, *,
               loss: Literal["classifier", "mlm", "cloze"] = "classifier",
               suite: str | Path = "agreement", dataset: str = "sst2", input: str | Path | None = None,
               text_column: str = "sentence", label_column: str = "label", max_sentences: int | None = None,
               per: Literal["example", "token"] = "example",
               normalize_global: bool = False, metric: Literal["accuracy", "loss"] = "accuracy", steps: int = 10,
               random_orders: int = 5, leave_one_out: bool = False, batch_size: int = 32, mask_prob: float = 0.15,
               seed: int = 0, device: str | None = None, figures: bool = True,
               progress: bool = True) -> dict[str, HeadImportance | PruningCurve | HeadAblation]:
    """Head importance (Michel et al., 2019), the pruning curve and optional leave-one-out scores, saved under ``out``.

    Data are validated and ``out`` checked before the model loads. ``loss="classifier"``
    needs a model with a sequence-classification head (loaded with ``head="classifier"``)
    and uses the dataset's labels; ``loss="mlm"`` a masked-LM head (the labels are not
    used); ``loss="cloze"`` a masked-LM head and a choice ``suite`` instead of the dataset.
    For a probe on a frozen encoder, call :func:`head_importance` and
    :func:`prune_heads` with a ``Classifier``.

    Parameters
    ----------
    model
        Name, hub id, local directory or a loaded model with the right head.
    out
        Directory: ``importance/``, ``pruning/``, ``ablation/`` (with ``leave_one_out``) and
        ``figures/``.
    loss
        ``"classifier"``, ``"mlm"`` or ``"cloze"`` (see :func:`head_importance`).
    suite
        For ``loss="cloze"``: a choice suite's name or JSONL file.
    dataset, input, text_column, label_column
        The labelled data (see :func:`~bertology.core.data.load_dataset`); default the
        shipped SST-2 sample.
    max_sentences
        Use only the first sentences.
    per, normalize_global
        See :func:`head_importance`.
    metric, steps, random_orders
        See :func:`prune_heads`.
    leave_one_out
        Also mask each head alone (one pass over the data per head).
    batch_size, mask_prob, seed, device, progress
        Batching, masked share for ``"mlm"``, seed, device and progress bars.
    figures
        Render the figures into ``out/figures``.

    Returns
    -------
    dict
        ``{"importance": HeadImportance, "pruning": PruningCurve[, "ablation": HeadAblation]}``.

    Examples
    --------
    >>> import tempfile
    >>> r = heads_task("minilm", tempfile.mkdtemp(), loss="mlm", max_sentences=4, steps=2,
    ...                random_orders=1, figures=False, progress=False)  # doctest: +SKIP
    >>> sorted(r)  # doctest: +SKIP
    ['importance', 'pruning']
    """
    check_heads_arguments(loss, metric, per, steps, random_orders, batch_size, mask_prob, max_sentences)
    if loss == "cloze":
        texts, labels = texts_and_labels(suite, None, loss)
    else:
        data = load_dataset(dataset, data=input, text_column=text_column, label_column=label_column)
        texts = data.texts
        labels = [data.label_names[i] for i in data.labels] if loss == "classifier" else None
    if max_sentences is not None:
        texts = texts[:max_sentences]
        labels = None if labels is None else labels[:max_sentences]
    out = check_output(out)
    head = "classifier" if loss == "classifier" else "mlm"
    loaded = model if isinstance(model, LoadedModel) else load_model(model, head=head, device=device)
    if loaded.head != head:
        raise InputError(f"loss={loss!r} needs a model loaded with head={head!r}, got head={loaded.head!r}.")
    common = dict(loss=loss, batch_size=batch_size, mask_prob=mask_prob, seed=seed, progress=progress)
    importance = head_importance(loaded, texts, labels=labels, per=per, normalize_global=normalize_global,
                                 **common)
    importance.save(out / IMPORTANCE_DIR)
    curve = prune_heads(loaded, texts, importance, labels=labels, metric=metric, steps=steps,
                        random_orders=random_orders, **common)
    curve.save(out / PRUNING_DIR)
    results: dict[str, Any] = {"importance": importance, "pruning": curve}
    if leave_one_out:
        ablation = ablation_scores(loaded, texts, labels=labels, metric=metric, **common)
        ablation.save(out / ABLATION_DIR)
        results["ablation"] = ablation
    if figures:
        save_heads_figures(out)
    return results


def save_heads_figures(out: str | Path) -> list[Path]:
    """Render the importance heatmap, the pruning curve and the leave-one-out heatmap from saved results.

    Parameters
    ----------
    out
        A directory written by :func:`heads_task`.

    Returns
    -------
    list of pathlib.Path
        The written figure files (PDF and PNG each).

    Examples
    --------
    >>> save_heads_figures("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.StoreError: ...
    """
    out = Path(out)
    written = save_figure(HeadImportance.load(out / IMPORTANCE_DIR).plot(), out / "figures" / "head_importance")
    written += save_figure(PruningCurve.load(out / PRUNING_DIR).plot(), out / "figures" / "pruning_curve")
    if (out / ABLATION_DIR).is_dir():
        written += save_figure(HeadAblation.load(out / ABLATION_DIR).plot(), out / "figures" / "head_ablation")
    return written
