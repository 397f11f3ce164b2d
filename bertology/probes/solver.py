"""Batched multinomial logistic regression: many independent probes fitted in one L-BFGS run."""

from __future__ import annotations

import numpy as np
import torch


def standardize(train: torch.Tensor, *others: torch.Tensor, scale: bool = True) -> tuple[torch.Tensor, ...]:
    """Centre (and scale) ``(B, n, d)`` features with the mean (and std) of the training rows only.

    Parameters
    ----------
    train
        ``(B, n_train, d)`` training features of ``B`` problems.
    others
        Further ``(B, m, d)`` arrays (test rows) scaled with the training statistics.
    scale
        Divide by the standard deviation too; ``False`` only centres (which leaves the
        optimum of an L2-penalised model with an unpenalised intercept unchanged).

    Returns
    -------
    tuple of torch.Tensor
        ``(mean, scale, train_scaled, *others_scaled)``; ``mean`` and ``scale`` are ``(B, 1, d)``.

    Examples
    --------
    >>> mean, scale, z = standardize(torch.tensor([[[1.0], [3.0]]]))
    >>> z.squeeze().tolist()
    [-1.0, 1.0]
    """
    mean = train.mean(dim=1, keepdim=True)
    spread = train.std(dim=1, unbiased=False, keepdim=True) if scale else torch.ones_like(mean)
    spread = torch.where(spread > 0, spread, torch.ones_like(spread))
    return (mean, spread, (train - mean) / spread, *((other - mean) / spread for other in others))


def _binary_loss(features: torch.Tensor, targets: torch.Tensor, coef: torch.Tensor, penalty: torch.Tensor
                 ) -> torch.Tensor:
    margins = (features @ coef[..., None])[..., 0]  # (B, n)
    losses = torch.nn.functional.softplus(margins) - targets * margins
    return losses.mean(dim=1) + 0.5 * (penalty * coef * coef).sum(dim=1)


def _fit_binary_newton(features: torch.Tensor, labels: torch.Tensor, C: float, max_iter: int,
                       tol: float) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Binary logistic regression by Newton's method with backtracking (one batched Hessian solve per step)."""
    n_problems, n_rows, n_features = features.shape
    design = torch.cat([features, torch.ones(n_problems, n_rows, 1, dtype=features.dtype)], dim=2)  # (B, n, d+1)
    design_t = design.transpose(1, 2).contiguous()
    targets = labels.to(features.dtype)
    penalty = torch.full((n_features + 1,), 1.0 / (C * n_rows), dtype=features.dtype)
    penalty[-1] = 0.0
    coef = torch.zeros(n_problems, n_features + 1, dtype=features.dtype)
    loss = _binary_loss(design, targets, coef, penalty)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        proba = torch.sigmoid((design @ coef[..., None])[..., 0])
        gradient = (design_t @ (proba - targets)[..., None])[..., 0] / n_rows + penalty * coef
        if gradient.abs().max() <= tol:
            break
        hessian = design_t @ ((proba * (1 - proba))[..., None] * design) / n_rows + torch.diag(penalty) \
            + 1e-10 * torch.eye(n_features + 1)
        step = torch.from_numpy(np.linalg.solve(hessian.double().numpy(), gradient.double().numpy()[..., None])[..., 0]
                                ).to(features.dtype)
        scale = torch.ones(n_problems, dtype=features.dtype)
        for _ in range(20):
            candidate = coef - scale[:, None] * step
            new_loss = _binary_loss(design, targets, candidate, penalty)
            worse = new_loss > loss + 1e-12
            if not worse.any():
                break
            scale = torch.where(worse, scale / 2, scale)
        coef, loss = candidate, new_loss
    weights = torch.zeros(n_problems, n_features, 2, dtype=features.dtype)
    weights[..., 1] = coef[:, :-1]
    bias = torch.zeros(n_problems, 2, dtype=features.dtype)
    bias[:, 1] = coef[:, -1]
    return weights, bias, n_iter


def fit_softmax(features: torch.Tensor, labels: torch.Tensor, n_classes: int, C: float = 1.0,
                max_iter: int = 100, tol: float = 1e-4) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Fit ``B`` L2-regularised softmax regressions at once with L-BFGS.

    Each problem ``b`` minimises the objective of scikit-learn's
    ``LogisticRegression(C=C)``: for two classes the binary logistic loss
    ``Σ_i log(1 + exp(−s_i (w_b·x_i + c_b))) + ||w_b||² / (2C)``, solved by Newton's
    method with one batched Hessian solve per step; for more classes the multinomial
    ``Σ_i CE(W_b x_i + c_b, y_i) + ||W_b||² / (2C)``, solved by one L-BFGS run over the
    problems' summed losses (they share no parameters, so it reaches every optimum).
    Intercepts are not penalised.

    Parameters
    ----------
    features
        ``(B, n, d)`` float tensor (standardised features converge fastest).
    labels
        ``(B, n)`` int64 class indices in ``0..n_classes-1``.
    n_classes
        Number of classes ``K`` (at least 2).
    C
        Inverse regularisation strength, as in scikit-learn.
    max_iter
        Newton or L-BFGS iterations.
    tol
        Stop when the largest gradient entry falls below this.

    Returns
    -------
    tuple
        ``(weights (B, d, K), bias (B, K), iterations)``.

    Examples
    --------
    >>> x = torch.tensor([[[-2.0], [-1.0], [1.0], [2.0]]])
    >>> w, b, _ = fit_softmax(x, torch.tensor([[0, 0, 1, 1]]), n_classes=2)
    >>> (x @ w + b[:, None]).argmax(-1).tolist()
    [[0, 0, 1, 1]]
    """
    if n_classes == 2:
        return _fit_binary_newton(features, labels, C, max_iter, tol)
    return _fit_lbfgs(features, labels, n_classes, C, max_iter, tol)


def _fit_lbfgs(features: torch.Tensor, labels: torch.Tensor, n_classes: int, C: float, max_iter: int,
               tol: float) -> tuple[torch.Tensor, torch.Tensor, int]:
    n_problems, n_rows, n_features = features.shape
    weights = torch.zeros(n_problems, n_features, n_classes, dtype=features.dtype, device=features.device)
    bias = torch.zeros(n_problems, n_classes, dtype=features.dtype, device=features.device)
    optimizer = torch.optim.LBFGS([weights, bias], lr=1, max_iter=max_iter, tolerance_grad=tol,
                                  tolerance_change=1e-9, history_size=10, line_search_fn="strong_wolfe")
    penalty = 0.5 / (C * n_rows)

    onehot = torch.nn.functional.one_hot(labels, n_classes).to(features.dtype)  # (B, n, K)
    transposed = features.transpose(1, 2).contiguous()  # (B, d, n)

    @torch.no_grad()
    def closure() -> torch.Tensor:
        logits = features @ weights + bias[:, None, :]  # (B, n, K)
        log_proba = torch.log_softmax(logits, dim=-1)
        residual = (log_proba.exp() - onehot) / n_rows
        weights.grad = transposed @ residual + 2 * penalty * weights
        bias.grad = residual.sum(dim=1)
        return -(onehot * log_proba).sum() / n_rows + penalty * (weights * weights).sum()

    optimizer.step(closure)
    return weights.detach(), bias.detach(), int(optimizer.state[weights]["n_iter"])


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
    _, _, train_z, test_z = standardize(train, test, scale=False)
    weights, bias, _ = fit_softmax(train_z, labels.contiguous(), n_classes, C=C, max_iter=max_iter)
    with torch.inference_mode():
        return torch.softmax(test_z @ weights + bias[:, None, :], dim=-1).double().numpy()
