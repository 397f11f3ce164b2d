"""Head importance from gradients of differentiable head gates (Michel et al., 2019)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch

from bertology.analyses.heads.objective import LossFn, Objective, texts_and_labels
from bertology.analyses.heads.result import HeadImportance, importance_frame
from bertology.core.errors import InputError
from bertology.core.progress import progress_bar


def normalize_importance(raw: np.ndarray, by_layer: bool = True, global_minmax: bool = False) -> np.ndarray:
    """Michel et al.'s layer-wise L2 normalisation, then optionally Hugging Face's global min-max.

    ``I[l, h] / (‖I[l, :]‖₂ + 1e-20)`` as in ``compute_heads_importance`` of the authors'
    released code (exponent 2) and of ``run_bertology.py``; the latter then rescales all
    scores to ``[0, 1]`` (``(I - min) / (max - min)``) unless
    ``--dont_normalize_global_importance``.

    Parameters
    ----------
    raw
        ``(layers, heads)`` importance.
    by_layer
        Divide each layer's scores by their L2 norm.
    global_minmax
        Then rescale every score to ``[0, 1]``.

    Returns
    -------
    numpy.ndarray
        Same shape, float64.

    Examples
    --------
    >>> normalize_importance(np.array([[3.0, 4.0], [0.0, 2.0]])).tolist()
    [[0.6, 0.8], [0.0, 1.0]]
    >>> normalize_importance(np.array([[3.0, 4.0], [0.0, 2.0]]), global_minmax=True).tolist()
    [[0.6, 0.8], [0.0, 1.0]]
    """
    scores = np.asarray(raw, dtype=np.float64).copy()
    if by_layer:
        scores /= np.power(np.power(scores, 2).sum(-1), 1 / 2)[:, None] + 1e-20
    if global_minmax:
        span = scores.max() - scores.min()
        scores = (scores - scores.min()) / span if span > 0 else np.zeros_like(scores)
    return scores


def gate_gradients(objective: Objective, per: Literal["example", "token"] = "example",
                   progress: bool = True) -> tuple[np.ndarray, int]:
    """``Σ |∂L/∂ξ|`` over examples (or tokens) for every head, one forward and backward per batch.

    Per-example gates ``ξ`` of shape ``(batch, layers, heads)`` (or ``(batch, query, layers,
    heads)`` per token), all 1, multiply each head's context; the summed per-example loss
    is differentiated once, and each example's (token's) gradient is its own ``∂L_x/∂ξ``.

    Parameters
    ----------
    objective
        The model, data and loss.
    per
        ``"example"``: ``Σ_x |∂L_x/∂ξ_h|`` (the paper's ``E_x``, and Hugging Face's
        ``run_bertology.py`` at its default batch size 1); ``"token"``: ``Σ_x Σ_t
        |∂L_x/∂ξ_{h,t}|`` (the authors' released code: ``|⟨∂L/∂ctx, ctx⟩|`` per token).
    progress
        Show a progress bar.

    Returns
    -------
    tuple
        ``(sums (layers, heads) float64, real tokens seen)``.

    Examples
    --------
    >>> import bertology as bt  # doctest: +SKIP
    >>> sums, tokens = gate_gradients(Objective(bt.load_model("minilm", head="mlm"), ["A b."], "mlm"))  # doctest: +SKIP
    """
    if per not in ("example", "token"):
        raise InputError(f"per={per!r} must be 'example' or 'token'.")
    if per == "token" and objective.kind == "callable":
        raise InputError("per='token' needs a built-in loss (the token positions are unknown for a callable); "
                         "use per='example'.")
    shape = (objective.num_layers, objective.num_heads)
    total = torch.zeros(shape, dtype=torch.float64, device=objective.device)
    tokens = 0
    for batch in progress_bar(objective.batches, desc="head importance", progress=progress, unit="batch"):
        lead = (len(batch.rows),) if per == "example" else (len(batch.rows), batch.inputs["input_ids"].shape[1])
        gates = torch.ones(*lead, *shape, device=objective.device, requires_grad=True)
        with torch.enable_grad(), objective.gated(gates):
            losses, _ = objective.run(batch)
            (grad,) = torch.autograd.grad(losses.sum(), gates)
        total += grad.abs().double().reshape(-1, *shape).sum(0)
        tokens += batch.n_tokens if objective.kind != "callable" else len(batch.rows)
    return total.cpu().numpy(), tokens


def head_importance(model: Any, texts: Sequence[str] | Any,
                    loss: Literal["classifier", "mlm", "cloze"] | LossFn = "classifier",
                    labels: Sequence[Any] | np.ndarray | None = None, *, per: Literal["example", "token"] = "example",
                    normalize_layers: bool = True, normalize_global: bool = False, batch_size: int = 32,
                    mask_prob: float = 0.15, seed: int = 0, progress: bool = True) -> HeadImportance:
    """Importance of every attention head from gradients of head gates (Michel et al., 2019).

    Michel, Levy & Neubig (2019), "Are Sixteen Heads Really Better than One?": gates ξ
    (``layers × heads``, all 1) multiply each head's context before the attention output
    projection; ``I_h = E_x |∂L(x)/∂ξ_h|``. One forward and one backward pass per batch
    give every head (per-example gates make the batch exact). The sum is divided by the
    number of real tokens, as in the authors' code and Hugging Face's ``run_bertology.py``
    (the number of sentences for a callable loss); then each layer is divided by its L2
    norm (``normalize_layers``, the authors' default) and, optionally, every score is
    min-max rescaled to ``[0, 1]`` (``normalize_global``, ``run_bertology.py``'s default).

    Parameters
    ----------
    model
        ``loss="classifier"``: a ``Classifier`` (a probe on a frozen encoder or a fine-tuned
        sequence-classification model) or a model loaded with ``head="classifier"``;
        ``loss="mlm"`` or ``"cloze"``: a model loaded with ``head="mlm"``;
        a callable loss: the LoadedModel (or Hugging Face model) the callable runs.
    texts
        Sentences, or a labelled dataset (``texts`` and ``labels`` attributes); for
        ``loss="cloze"`` a choice suite's name (``"agreement"``...) or JSONL file.
    loss
        ``"classifier"`` (cross-entropy against ``labels``), ``"mlm"`` (masked-LM
        cross-entropy on ``mask_prob`` of each sentence's tokens, positions drawn with
        ``seed``), ``"cloze"`` (the suite's good-vs-bad contrast at ``[MASK]``: the
        cross-entropy of the correct candidate among the item's candidates, see
        :class:`~bertology.analyses.heads.objective.Objective`) or a callable
        ``texts -> (batch,)`` per-example losses that runs ``model``.
    labels
        Class labels (names or indices) for ``"classifier"``; default the dataset's, else
        the model's own predictions.
    per
        ``"example"`` (the paper) or ``"token"`` (the authors' released code).
    normalize_layers, normalize_global
        See :func:`normalize_importance`.
    batch_size
        Sentences per forward pass.
    mask_prob
        Share of tokens masked for ``"mlm"``.
    seed
        Seed of the masked positions.
    progress
        Show a progress bar.

    Returns
    -------
    HeadImportance

    Raises
    ------
    InputError
        Before any forward pass, for a model that does not fit the loss or bad arguments.

    Examples
    --------
    >>> import bertology as bt
    >>> m = bt.load_model("minilm", head="mlm")  # doctest: +SKIP
    >>> imp = bt.head_importance(m, ["The keys to the cabinet are here."], loss="mlm")  # doctest: +SKIP
    >>> imp.to_frame().shape  # doctest: +SKIP
    (72, 4)
    """
    texts, labels = texts_and_labels(texts, labels, loss)
    objective = Objective(model, texts, loss, labels, batch_size=batch_size, mask_prob=mask_prob, seed=seed)
    raw_sums, tokens = gate_gradients(objective, per=per, progress=progress)
    raw = raw_sums / tokens
    normalized = normalize_importance(raw, by_layer=normalize_layers, global_minmax=normalize_global)
    meta = {"loss": objective.kind, "per": per, "n_texts": len(texts), "n_tokens": tokens,
            "labels": "given" if labels is not None else ("predicted" if objective.kind == "classifier" else None),
            "normalization": {"by_layer_l2": normalize_layers, "global_minmax": normalize_global},
            "mask_prob": mask_prob if objective.kind == "mlm" else None, "seed": seed,
            "model": _describe(model)}
    return HeadImportance(importance_frame(raw, normalized), meta)


def _describe(model: Any) -> Any:
    description = getattr(model, "description", None)
    if isinstance(description, dict):
        return description
    describe = getattr(model, "describe", None)
    return describe() if callable(describe) else type(model).__name__
