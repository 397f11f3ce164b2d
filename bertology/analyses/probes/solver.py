"""Batched L2-regularised logistic regression: many independent probes fitted in one preconditioned L-BFGS run."""

from __future__ import annotations

import numpy as np
import torch

HISTORY = 10
ARMIJO = 1e-4
MAX_HALVINGS = 40


def centre(train: torch.Tensor, *others: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Centre ``(B, n, d)`` features on the mean of the training rows only.

    Centring leaves the optimum of an L2-penalised model with an unpenalised intercept
    unchanged and makes the solver converge faster.

    Parameters
    ----------
    train
        ``(B, n_train, d)`` training features of ``B`` problems.
    others
        Further ``(B, m, d)`` arrays (test rows) shifted by the same mean.

    Returns
    -------
    tuple of torch.Tensor
        ``(mean (B, 1, d), train_centred, *others_centred)``.

    Examples
    --------
    >>> mean, z = centre(torch.tensor([[[1.0], [3.0]]]))
    >>> mean.item(), z.squeeze().tolist()
    (2.0, [-1.0, 1.0])
    """
    mean = train.mean(dim=1, keepdim=True)
    return (mean, train - mean, *(other - mean for other in others))


def _loss(scores: torch.Tensor, targets: torch.Tensor, coef: torch.Tensor, penalty: torch.Tensor,
          binary: bool) -> torch.Tensor:
    """Per-problem objective ``(B,)`` of ``(B, K, n)`` scores: mean log loss plus the L2 penalty."""
    if binary:
        data = (torch.nn.functional.softplus(scores) - targets * scores).sum(dim=(1, 2))
    else:
        data = -(targets * torch.log_softmax(scores, dim=1)).sum(dim=(1, 2))
    return data / scores.shape[-1] + 0.5 * (penalty * coef * coef).sum(dim=(1, 2))


def _gradient(scores: torch.Tensor, targets: torch.Tensor, coef: torch.Tensor, penalty: torch.Tensor,
              design: torch.Tensor, binary: bool) -> torch.Tensor:
    """``(B, K, p)`` gradient of :func:`_loss` with respect to ``coef``."""
    proba = torch.sigmoid(scores) if binary else torch.softmax(scores, dim=1)
    return (proba - targets) @ design / scores.shape[-1] + penalty * coef


def _precondition(vector: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Apply the inverse of the curvature bound (Cholesky ``factor``, ``(B, p, p)``) to ``(B, K, p)``."""
    return torch.cholesky_solve(vector.mT, factor).mT


def _lbfgs_direction(gradient: torch.Tensor, history: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
                     factor: torch.Tensor) -> torch.Tensor:
    """L-BFGS two-loop recursion (Nocedal & Wright, Alg. 7.4) with the preconditioner as initial inverse Hessian."""
    q = gradient.clone()
    alphas = []
    for step, change, rho in reversed(history):
        alpha = rho * (step * q).sum(dim=(1, 2))
        q -= alpha[:, None, None] * change
        alphas.append(alpha)
    r = _precondition(q, factor)
    for (step, change, rho), alpha in zip(history, reversed(alphas)):
        beta = rho * (change * r).sum(dim=(1, 2))
        r += (alpha - beta)[:, None, None] * step
    return -r


def fit_softmax(features: torch.Tensor, labels: torch.Tensor, n_classes: int, C: float = 1.0,
                max_iter: int = 100, tol: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Fit ``B`` independent L2-regularised logistic regressions at once.

    Each problem ``b`` minimises the objective of scikit-learn's
    ``LogisticRegression(C=C)`` divided by ``n``: for two classes the binary logistic
    loss ``Σ_i log(1 + exp(−s_i (w_b·x_i + c_b))) + ||w_b||² / (2C)``, for more classes
    the multinomial ``Σ_i CE(W_b x_i + c_b, y_i) + ||W_b||² / (2C)``; intercepts are not
    penalised. All problems run one batched L-BFGS (Nocedal & Wright 2006, Alg. 7.4/7.5)
    with a backtracking Armijo line search of their own, preconditioned by the Hessian at
    zero, ``c·XᵀX/n + penalty`` with ``c = 1/4`` for two classes (Böhning's 1992 curvature
    bound, so the first step is an exact Newton step) and ``c = 1/K`` otherwise.

    Parameters
    ----------
    features
        ``(B, n, d)`` float tensor (centred features converge fastest).
    labels
        ``(B, n)`` int64 class indices in ``0..n_classes-1``.
    n_classes
        Number of classes ``K`` (at least 2).
    C
        Inverse regularisation strength, as in scikit-learn.
    max_iter
        L-BFGS iterations.
    tol
        Stop a problem when its largest gradient entry falls below this.

    Returns
    -------
    tuple
        ``(weights (B, d, K), bias (B, K), iterations)``; for two classes column 0 is zero
        and column 1 holds the log-odds model.

    Examples
    --------
    >>> x = torch.tensor([[[-2.0], [-1.0], [1.0], [2.0]]])
    >>> w, b, _ = fit_softmax(x, torch.tensor([[0, 0, 1, 1]]), n_classes=2)
    >>> (x @ w + b[:, None]).argmax(-1).tolist()
    [[0, 0, 1, 1]]
    """
    n_problems, n_rows, n_features = features.shape
    dtype = features.dtype
    binary = n_classes == 2
    design_t = torch.cat([features.mT, torch.ones(n_problems, 1, n_rows, dtype=dtype)], dim=1)  # (B, p, n)
    design = design_t.mT
    targets = labels.to(dtype)[:, None, :] if binary else \
        torch.nn.functional.one_hot(labels, n_classes).mT.to(dtype)  # (B, K, n)
    penalty = torch.full((n_features + 1,), 1.0 / (C * n_rows), dtype=dtype)
    penalty[-1] = 0.0
    curvature = 0.25 if binary else 1.0 / n_classes
    bound = (design_t @ design).double() * (curvature / n_rows) + torch.diag(penalty.double()) \
        + 1e-10 * torch.eye(n_features + 1, dtype=torch.float64)
    factor = torch.linalg.cholesky(bound).to(dtype)
    coef = torch.zeros(n_problems, targets.shape[1], n_features + 1, dtype=dtype)
    scores = torch.zeros_like(targets)
    loss = _loss(scores, targets, coef, penalty, binary)
    gradient = _gradient(scores, targets, coef, penalty, design, binary)
    history: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    active = torch.ones(n_problems, dtype=torch.bool)
    iterations = 0
    for iterations in range(1, max_iter + 1):
        active &= gradient.abs().amax(dim=(1, 2)) > tol
        if not active.any():
            iterations -= 1
            break
        direction = _lbfgs_direction(gradient, history, factor)
        slope = (gradient * direction).sum(dim=(1, 2))
        uphill = slope >= 0
        if uphill.any():
            direction[uphill] = -_precondition(gradient[uphill], factor[uphill])
            slope = (gradient * direction).sum(dim=(1, 2))
        direction[~active] = 0.0
        score_change = direction @ design_t
        rate = torch.ones(n_problems, dtype=dtype)
        for _ in range(MAX_HALVINGS):
            candidate = _loss(scores + rate[:, None, None] * score_change, targets,
                              coef + rate[:, None, None] * direction, penalty, binary)
            rejected = active & (candidate > loss + ARMIJO * rate * slope)
            if not rejected.any():
                break
            rate = torch.where(rejected, rate / 2, rate)
        rate = torch.where(rejected, torch.zeros_like(rate), rate)
        active &= ~rejected
        step = rate[:, None, None] * direction
        coef = coef + step
        scores = scores + rate[:, None, None] * score_change
        loss = torch.where(rejected, loss, candidate)
        new_gradient = _gradient(scores, targets, coef, penalty, design, binary)
        change = new_gradient - gradient
        curvature_along = (step * change).sum(dim=(1, 2))
        rho = torch.where(curvature_along > 1e-12, 1.0 / curvature_along.clamp_min(1e-12),
                          torch.zeros_like(curvature_along))
        history = (history + [(step, change, rho)])[-HISTORY:]
        gradient = new_gradient
    if binary:
        weights = torch.zeros(n_problems, n_features, 2, dtype=dtype)
        weights[..., 1] = coef[:, 0, :-1]
        bias = torch.zeros(n_problems, 2, dtype=dtype)
        bias[:, 1] = coef[:, 0, -1]
        return weights, bias, iterations
    return coef[:, :, :-1].mT.contiguous(), coef[:, :, -1].contiguous(), iterations


def fit_predict_proba(train: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor,
                      test: np.ndarray | torch.Tensor, n_classes: int, C: float = 1.0, max_iter: int = 100,
                      dtype: torch.dtype = torch.float32) -> np.ndarray:
    """Centre on the training rows, fit ``B`` logistic probes, return test-row probabilities.

    Parameters
    ----------
    train
        ``(B, n_train, d)`` training features (one problem per layer, or layer × label set).
    labels
        ``(B, n_train)`` or ``(n_train,)`` class indices (broadcast over problems).
    test
        ``(B, n_test, d)`` features to score; never used for fitting.
    n_classes, C, max_iter
        As in :func:`fit_softmax`.
    dtype
        Precision of the fit.

    Returns
    -------
    numpy.ndarray
        ``(B, n_test, n_classes)`` probabilities.

    Examples
    --------
    >>> x = np.array([[[-2.0], [-1.0], [1.0], [2.0]]])
    >>> fit_predict_proba(x, np.array([0, 0, 1, 1]), x, 2).argmax(-1).tolist()
    [[0, 0, 1, 1]]
    """
    train = torch.as_tensor(train, dtype=dtype)
    test = torch.as_tensor(test, dtype=dtype)
    labels = torch.as_tensor(labels, dtype=torch.long)
    if labels.dim() == 1:
        labels = labels.expand(train.shape[0], -1)
    _, train_z, test_z = centre(train, test)
    weights, bias, _ = fit_softmax(train_z, labels.contiguous(), n_classes, C=C, max_iter=max_iter)
    with torch.inference_mode():
        return torch.softmax(test_z @ weights + bias[:, None, :], dim=-1).double().numpy()
