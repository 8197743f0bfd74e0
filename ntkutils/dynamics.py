"""Closed-form training dynamics of kernel (linearised / infinite-width) models under MSE.

Conventions (Jacot et al. 2018, §5). Loss ½·mean over the N training points,
C = (1/2N) Σ_i (f(x_i) − y_i)², and time t = steps × η. Gradient flow on a fixed kernel Θ then
gives ∂_t f(X) = −(1/N) Θ (f(X) − Y), so with Θ = V diag(λ) Vᵀ

    f_t(X) = Y + e^{−Θt/N} (f_0(X) − Y)                                      (train)
    f_t(x) = f_0(x) + Θ(x, X) Θ^{-1} (I − e^{−Θt/N}) (Y − f_0(X))            (test)

and gradient descent with step η replaces e^{−Θt/N} by (I − ηΘ/N)^k after k steps. The
eigenvalues λ_i/N are Jacot's kernel-PCA rates: the residual's component along eigenvector i
decays as e^{−λ_i t/N}. ``normalization="sum"`` uses the summed loss ½Σ_i(·)² of Lee et al.
(2019) instead: every rate λ/N becomes λ.

Θ^{-1}(I − e^{−Θt/N}) is evaluated spectrally as V diag((1 − e^{−λt/N})/λ) Vᵀ with ``expm1``, so
it is finite for any t < ∞ even where Θ is singular; t = ∞ needs λ_min > 0.
All computations are float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from . import _validation as check

NORMALIZATIONS = ("mean", "sum")


@dataclass
class Prediction:
    """Function values along training.

    Attributes:
        train: Outputs on the training inputs, (T, N[, k]).
        test: Outputs on the test inputs, (T, M[, k]), or None.
    """

    train: torch.Tensor
    test: torch.Tensor | None


@dataclass
class GaussianPrediction:
    """Gaussian over test outputs at each time.

    Attributes:
        mean: Mean of the test outputs, (T, M).
        covariance: Covariance of the test outputs, (T, M, M).
    """

    mean: torch.Tensor
    covariance: torch.Tensor


def _f64(name: str, x, ndim: Sequence[int]) -> torch.Tensor:
    t = torch.as_tensor(x).to(torch.float64)
    if t.ndim not in ndim:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndim))} dimensions, got shape {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or Inf entries")
    return t


def _kernel(name: str, k) -> torch.Tensor:
    k = _f64(name, k, (2,))
    if k.shape[0] != k.shape[1]:
        raise ValueError(f"{name} must be square (N, N), got shape {tuple(k.shape)}")
    return k


def _rate_scale(normalization: str, n: int) -> float:
    return 1.0 / n if check.choice("normalization", normalization, NORMALIZATIONS) == "mean" else 1.0


def _times(name: str, t) -> torch.Tensor:
    times = torch.atleast_1d(torch.as_tensor(t, dtype=torch.float64))
    if times.ndim != 1 or bool((times < 0).any()) or bool(torch.isnan(times).any()):
        raise ValueError(f"{name} must be a non-negative number or 1-D sequence of them, got {t!r}")
    return times


def kernel_eigendecomposition(ntk_train, normalization: str = "mean") -> tuple[torch.Tensor, torch.Tensor]:
    """Eigen-pairs of the training Gram matrix, largest first.

    Args:
        ntk_train: Training kernel Θ(X, X), (N, N).
        normalization: ``"mean"`` (½·mean loss over the N points) or ``"sum"`` (summed loss).

    Returns:
        rates (N,): λ_i/N for ``"mean"`` (Jacot's kernel-PCA eigenvalues), λ_i for ``"sum"``;
        eigenvectors (N, N): column i is the unit-norm eigenvector of rate i.
    """
    k = _kernel("ntk_train", ntk_train)
    lam, vec = torch.linalg.eigh(0.5 * (k + k.T))
    return lam.flip(0) * _rate_scale(normalization, k.shape[0]), vec.flip(1)


def max_learning_rate(ntk_train, normalization: str = "mean") -> float:
    """Largest stable GD step: η < 2/λ_max(Θ/N) = 2N/λ_max(Θ) (mean loss), 2/λ_max (summed).

    Args:
        ntk_train: Training kernel Θ(X, X), (N, N).
        normalization: ``"mean"`` or ``"sum"`` loss.

    Returns:
        The bound 2/λ_max of the normalised kernel (float).
    """
    k = _kernel("ntk_train", ntk_train)
    lam_max = float(torch.linalg.eigvalsh(0.5 * (k + k.T))[-1])   # eigenvalues only: no vectors
    return 2.0 / (lam_max * _rate_scale(normalization, k.shape[0]))


def check_learning_rate(eta: float, ntk_train, normalization: str = "mean") -> float:
    """Return ``eta`` if 0 < η < 2/λ_max of the (normalised) kernel, else raise ``ValueError``.

    Args:
        eta: Learning rate η.
        ntk_train: Training kernel Θ(X, X), (N, N).
        normalization: ``"mean"`` or ``"sum"`` loss.

    Returns:
        ``eta`` as a float.

    Raises:
        ValueError: If η is not finite and positive, or η ≥ 2/λ_max.
    """
    eta = check.finite_float("eta", eta, strictly_positive=True)
    bound = max_learning_rate(ntk_train, normalization)
    if eta >= bound:
        raise ValueError(f"eta={eta!r} is above the gradient-descent stability bound 2/λ_max = {bound:.6g} "
                         f"of this kernel ({normalization} loss); use eta < {bound:.6g}")
    return eta


def _spectral_solution(ntk_train, y_train, f0_train, ntk_test_train, f0_test,
                       decay: torch.Tensor, gain: torch.Tensor, vec: torch.Tensor) -> Prediction:
    """Train: Y + V diag(decay) Vᵀ (f0 − Y); test: f0(x) + Θ(x,X) V diag(gain) Vᵀ (Y − f0(X)).

    decay (T, N) = residual factor per eigen-direction; gain (T, N) = (1 − decay)/λ.
    """
    y = _f64("y_train", y_train, (1, 2))
    f0 = _f64("f0_train", f0_train, (1, 2))
    if f0.shape != y.shape or y.shape[0] != vec.shape[0]:
        raise ValueError(f"y_train and f0_train must both have shape ({vec.shape[0]}[, k]), "
                         f"got {tuple(y.shape)} and {tuple(f0.shape)}")
    proj = vec.T @ (f0 - y).reshape(y.shape[0], -1)                             # (N, k)
    train = y + torch.einsum("ni,ti,ik->tnk", vec, decay, proj).reshape(-1, *y.shape)
    test = None
    if ntk_test_train is not None:
        kxX = _f64("ntk_test_train", ntk_test_train, (2,))
        if kxX.shape[1] != y.shape[0] or f0_test is None:
            raise ValueError(f"ntk_test_train must have shape (M, {y.shape[0]}) and f0_test must be given, "
                             f"got {tuple(kxX.shape)}")
        g0 = _f64("f0_test", f0_test, (1, 2))
        coef = torch.einsum("mi,ti,ik->tmk", kxX @ vec, gain, -proj)
        test = g0 + coef.reshape(-1, *g0.shape)
    return Prediction(train, test)


def _gain(one_minus_decay: torch.Tensor, rates: torch.Tensor, zero_rate_limit: torch.Tensor,
          scale: float) -> torch.Tensor:
    """Spectral factor of Θ^{-1}(I − decay): scale·(1 − decay)/rate, its limit where rate = 0."""
    safe = torch.where(rates == 0, torch.ones_like(rates), rates)
    return scale * torch.where(rates == 0, zero_rate_limit, one_minus_decay / safe)


def _flow_factors(rates: torch.Tensor, times: torch.Tensor, scale: float):
    """decay e^{−rate·t} and gain (T, N) for gradient flow; t = inf gives decay 0, gain scale/rate."""
    finite = torch.isfinite(times)[:, None]
    if not bool(finite.all()) and float(rates[-1]) <= 1e-13 * float(rates[0]):
        raise ValueError("t=inf needs a positive-definite kernel (λ_min > 0); got λ_min/λ_max = "
                         f"{float(rates[-1] / rates[0]):.3g}")
    a = torch.where(finite, times[:, None], 0.0) * rates[None, :]
    one_minus = torch.where(finite, -torch.expm1(-a), 1.0)  # 1 − e^{−a}, accurate for small a
    return 1 - one_minus, _gain(one_minus, rates, times[:, None].expand_as(a), scale)


def flatten_output_kernel(theta) -> torch.Tensor:
    """Flatten a per-output kernel (N, M, k, k) -> (N·k, M·k).

    Args:
        theta: Per-output kernel, (N, M, k, k), or an (N, M) kernel.

    Returns:
        The (N·k, M·k) kernel with index (i, a) -> i·k + a (the order of ``Y.reshape(-1)`` for Y
        of shape (N, k)); an (N, M) kernel is returned as it is.
    """
    th = torch.as_tensor(theta)
    if th.ndim == 2:
        return th
    n, m, k, _ = th.shape
    return th.permute(0, 2, 1, 3).reshape(n * k, m * k)


def _vector_outputs(ntk_train, y_train, f0_train, ntk_test_train, f0_test, normalization):
    """Flatten per-output kernels (N, N, k, k) / (M, N, k, k) to (N·k, N·k) / (M·k, N·k), index
    (i, a) -> i·k + a, folding the ½·mean-over-N normalisation into the kernel so the rates stay
    λ/N with N the number of inputs (not N·k). Returns the flattened arguments, the normalisation
    to use with them and a function restoring (T, N·k) -> (T, N, k)."""
    th = torch.as_tensor(ntk_train)
    if th.ndim != 4:
        return ntk_train, y_train, f0_train, ntk_test_train, f0_test, normalization, None
    n, _, k, _ = th.shape
    scale = _rate_scale(normalization, n)
    flat = flatten_output_kernel(th.to(torch.float64)) * scale
    test = None
    if ntk_test_train is not None:
        tt = torch.as_tensor(ntk_test_train).to(torch.float64)
        if tt.ndim != 4 or tt.shape[1:] != (n, k, k):
            raise ValueError(f"ntk_test_train must have shape (M, {n}, {k}, {k}) to match ntk_train, "
                             f"got {tuple(tt.shape)}")
        test = flatten_output_kernel(tt) * scale

    def vec(name, v, rows):
        v = _f64(name, v, (2,))
        if v.shape[1] != k:
            raise ValueError(f"{name} must have shape ({rows}, {k}) for a kernel with k={k} outputs, "
                             f"got {tuple(v.shape)}")
        return v.reshape(-1)

    g0 = None if f0_test is None else vec("f0_test", f0_test, "M")
    return (flat, vec("y_train", y_train, n), vec("f0_train", f0_train, n), test, g0, "sum",
            lambda out: None if out is None else out.reshape(out.shape[0], -1, k))


def _unflatten(pred: Prediction, restore) -> Prediction:
    return pred if restore is None else Prediction(restore(pred.train), restore(pred.test))


def gradient_flow_predict(ntk_train, y_train, f0_train, t, *, ntk_test_train=None, f0_test=None,
                          normalization: str = "mean") -> Prediction:
    """Gradient flow on the MSE of a kernel model with fixed kernel Θ (Jacot et al. 2018, §5).

    Implements f_t(X) = Y + e^{−Θt/N} (f_0(X) − Y) and
    f_t(x) = f_0(x) + Θ(x, X) Θ^{-1} (I − e^{−Θt/N}) (Y − f_0(X)) (see the module docstring).

    Args:
        ntk_train: Θ(X, X), (N, N), or (N, N, k, k) per output pair (e.g. ``empirical_ntk`` of a
            network with k outputs).
        y_train: Targets on X, (N,) or (N, k).
        f0_train: Initial outputs on X, (N,) or (N, k).
        t: Time(s) t = steps × η ≥ 0 (``math.inf`` for the end point), scalar or (T,).
        ntk_test_train: Θ(x, X), (M, N) or (M, N, k, k), optional.
        f0_test: Initial outputs on the test inputs, (M,) or (M, k).
        normalization: The loss is ½·mean over the N inputs of the squared error summed over the
            k outputs (``"mean"``), or ½·sum (``"sum"``).

    Returns:
        ``Prediction`` with train (T, N[, k]) and test (T, M[, k]), float64.

    Raises:
        ValueError: On inconsistent shapes, non-finite inputs, negative times, or t = ∞ with a
            kernel that is not positive definite.
    """
    *args, normalization, restore = _vector_outputs(ntk_train, y_train, f0_train, ntk_test_train, f0_test,
                                                    normalization)
    ntk_train, y_train, f0_train, ntk_test_train, f0_test = args
    k = _kernel("ntk_train", ntk_train)
    rates, vec = kernel_eigendecomposition(k, normalization)
    decay, gain = _flow_factors(rates, _times("t", t), _rate_scale(normalization, k.shape[0]))
    return _unflatten(_spectral_solution(k, y_train, f0_train, ntk_test_train, f0_test, decay, gain, vec), restore)


def gradient_descent_predict(ntk_train, y_train, f0_train, steps, *, eta: float,
                             ntk_test_train=None, f0_test=None, normalization: str = "mean") -> Prediction:
    """Full-batch GD with step η on a kernel model: the residual is (I − ηΘ/N)^k (f0 − Y).

    Args:
        steps: Non-negative integer(s) k, scalar or (T,).
        eta: Learning rate η.
        ntk_train, y_train, f0_train, ntk_test_train, f0_test, normalization: As
            ``gradient_flow_predict`` (vector outputs too).

    Returns:
        ``Prediction`` as ``gradient_flow_predict``.

    Raises:
        ValueError: If η is not below the stability bound 2N/λ_max, or ``steps`` are not
            non-negative integers.
    """
    *args, normalization, restore = _vector_outputs(ntk_train, y_train, f0_train, ntk_test_train, f0_test,
                                                    normalization)
    ntk_train, y_train, f0_train, ntk_test_train, f0_test = args
    k = _kernel("ntk_train", ntk_train)
    check_learning_rate(eta, k, normalization)
    ks = _times("steps", steps)
    if bool((ks != ks.round()).any()) or not bool(torch.isfinite(ks).all()):
        raise ValueError(f"steps must be non-negative integers, got {steps!r}")
    rates, vec = kernel_eigendecomposition(k, normalization)
    a = (eta * rates)[None, :].expand(ks.shape[0], -1)
    decay = torch.pow(1 - a, ks[:, None])
    # 1 − (1 − a)^k = −expm1(k log1p(−a)), accurate for small a.
    one_minus = torch.where(a < 0.5, -torch.expm1(ks[:, None] * torch.log1p(-a.clamp(max=0.5))), 1 - decay)
    gain = _gain(one_minus, rates[None, :], eta * ks[:, None].expand_as(a), _rate_scale(normalization, k.shape[0]))
    return _unflatten(_spectral_solution(k, y_train, f0_train, ntk_test_train, f0_test, 1 - one_minus, gain, vec),
                      restore)


def residual_projections(ntk_train, residual, normalization: str = "mean") -> tuple[torch.Tensor, torch.Tensor]:
    """Coordinates of residuals f_t(X) − f*(X) on the kernel's eigenvectors.

    Args:
        ntk_train: Training kernel Θ(X, X), (N, N).
        residual: (N,) or (T, N).
        normalization: ``"mean"`` or ``"sum"`` loss.

    Returns:
        rates (N,) (largest first, see ``kernel_eigendecomposition``) and coefficients (T, N):
        coefficient i is ⟨r, v_i⟩ with v_i unit-norm. Under gradient flow coefficient i decays
        as e^{−rate_i · t}.
    """
    rates, vec = kernel_eigendecomposition(ntk_train, normalization)
    r = _f64("residual", residual, (1, 2))
    if r.shape[-1] != vec.shape[0]:
        raise ValueError(f"residual must have last dimension N={vec.shape[0]}, got shape {tuple(r.shape)}")
    return rates, torch.atleast_2d(r) @ vec


def _gp_operator(kernel_train, kernel_test_train, times, normalization, name):
    """P_t = K(x,X) K^{-1}(I − e^{−Kt/N}), shape (T, M, N)."""
    k = _kernel(name, kernel_train)
    rates, vec = kernel_eigendecomposition(k, normalization)
    _, gain = _flow_factors(rates, times, _rate_scale(normalization, k.shape[0]))
    kxX = _f64(name.replace("train", "test_train"), kernel_test_train, (2,))
    if kxX.shape[1] != k.shape[0]:
        raise ValueError(f"{name.replace('train', 'test_train')} must have shape (M, {k.shape[0]}), "
                         f"got {tuple(kxX.shape)}")
    return torch.einsum("mi,ti,ni->tmn", kxX @ vec, gain, vec)


def ntk_gp_predict(nngp_train, ntk_train, y_train, t, *, nngp_test_train, ntk_test_train,
                   nngp_test, normalization: str = "mean") -> GaussianPrediction:
    """Output distribution at time t of an infinitely wide network trained by gradient flow.

    Trained on MSE from random initialisation: the NTK-GP (Lee et al. 2019, eqs. 14–15).
    With P_t = Θ(x,X) Θ^{-1}(I − e^{−Θt/N}) and K the NNGP kernel,
        μ_t(x)     = P_t Y
        Σ_t(x, x') = K(x,x') + P_t K(X,X) P_tᵀ − P_t K(X,x') − K(x,X) P_tᵀ.
    At t = ∞ the mean is Θ(x,X)Θ^{-1}Y (kernel regression), not a GP posterior.

    Args:
        nngp_train: K(X, X), (N, N).
        ntk_train: Θ(X, X), (N, N).
        y_train: (N,).
        t: Scalar or (T,) times (t = steps × η).
        nngp_test_train: K(x, X), (M, N).
        ntk_test_train: Θ(x, X), (M, N).
        nngp_test: K(x, x'), (M, M).
        normalization: ``"mean"`` or ``"sum"`` loss.

    Returns:
        ``GaussianPrediction`` with mean (T, M) and covariance (T, M, M), float64.
    """
    times = _times("t", t)
    p = _gp_operator(ntk_train, ntk_test_train, times, normalization, "ntk_train")
    return _gaussian(p, nngp_train, nngp_test_train, nngp_test, y_train)


def nngp_readout_predict(nngp_train, y_train, t, *, nngp_test_train, nngp_test,
                         normalization: str = "mean") -> GaussianPrediction:
    """Infinite-width network where only the readout layer is trained (Lee et al. 2019, eqs. S22–S23).

    μ_t = K(x,X)K^{-1}(I − e^{−Kt/N})Y, Σ_t = K(x,x') − K(x,X)K^{-1}(I − e^{−2Kt/N})K(X,x').
    At t = ∞ this is the exact (noise-free) GP posterior with the NNGP kernel.

    Args:
        nngp_train: K(X, X), (N, N).
        y_train: (N,).
        t: Scalar or (T,) times (t = steps × η).
        nngp_test_train: K(x, X), (M, N).
        nngp_test: K(x, x'), (M, M).
        normalization: ``"mean"`` or ``"sum"`` loss.

    Returns:
        ``GaussianPrediction`` with mean (T, M) and covariance (T, M, M), float64.
    """
    times = _times("t", t)
    p2 = _gp_operator(nngp_train, nngp_test_train, 2 * times, normalization, "nngp_train")
    p = _gp_operator(nngp_train, nngp_test_train, times, normalization, "nngp_train")
    y = _f64("y_train", y_train, (1,))
    kxX = _f64("nngp_test_train", nngp_test_train, (2,))
    kxx = _f64("nngp_test", nngp_test, (2,))
    cov = kxx - p2 @ kxX.T
    return GaussianPrediction(p @ y, 0.5 * (cov + cov.transpose(1, 2)))


def _gaussian(p, nngp_train, nngp_test_train, nngp_test, y_train) -> GaussianPrediction:
    y = _f64("y_train", y_train, (1,))
    kXX = _kernel("nngp_train", nngp_train)
    kxX = _f64("nngp_test_train", nngp_test_train, (2,))
    kxx = _f64("nngp_test", nngp_test, (2,))
    cross = p @ kxX.T                                                            # (T, M, M)
    cov = kxx + p @ kXX @ p.transpose(1, 2) - cross - cross.transpose(1, 2)
    return GaussianPrediction(p @ y, 0.5 * (cov + cov.transpose(1, 2)))


@dataclass
class KernelBlocks:
    """(NNGP, NTK) pairs of float64 kernel blocks.

    Attributes:
        train: (NNGP, NTK) on the training inputs, each (N, N).
        test_train: (NNGP, NTK) between test and training inputs, each (M, N).
        test: (NNGP, NTK) on the test inputs, each (M, M).
    """

    train: tuple[torch.Tensor, torch.Tensor]
    test_train: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]


def kernel_blocks(kernel_fn, x_train, x_test) -> KernelBlocks:
    """The three kernel blocks a GP prediction needs.

    Compute them once and reuse them for every time and both dynamics (``gp_prediction``).

    Args:
        kernel_fn: ``kernel_fn(a, b=None) -> (nngp, ntk)``, e.g. ``kernels.analytic_kernel_fn(...)``
            or ``empirical.network_kernel_fn(net)``.
        x_train: Training inputs (N rows).
        x_test: Test inputs (M rows).

    Returns:
        ``KernelBlocks`` with the train (N, N), test_train (M, N) and test (M, M) pairs.
    """
    return KernelBlocks(tuple(kernel_fn(x_train, None)), tuple(kernel_fn(x_test, x_train)), tuple(kernel_fn(x_test, None)))


def gp_prediction(blocks: KernelBlocks, y_train, t, *, readout_only: bool = False,
                  normalization: str = "mean") -> GaussianPrediction:
    """GP prediction on precomputed ``blocks``.

    ``ntk_gp_predict`` (all layers trained) or, with ``readout_only``, ``nngp_readout_predict``
    (last layer trained; the GP posterior at t = ∞).

    Args:
        blocks: ``KernelBlocks`` from ``kernel_blocks``.
        y_train: (N,).
        t: Scalar or (T,) times (``math.inf`` allowed).
        readout_only: Train only the readout layer.
        normalization: ``"mean"`` or ``"sum"`` loss.

    Returns:
        mean (T, M) and covariance (T, M, M), float64.
    """
    (k, th), (k_t, th_t), (k_tt, _) = blocks.train, blocks.test_train, blocks.test
    if readout_only:
        return nngp_readout_predict(k, y_train, t, nngp_test_train=k_t, nngp_test=k_tt, normalization=normalization)
    return ntk_gp_predict(k, th, y_train, t, nngp_test_train=k_t, ntk_test_train=th_t, nngp_test=k_tt,
                          normalization=normalization)


def gd_decay_rates(rates, eta: float) -> torch.Tensor:
    """Decay rate per unit time t = steps × η of gradient descent along each eigendirection.

    With a fixed kernel, GD multiplies the residual's component i by (1 − η λ_i) per step, so it
    decays as |1 − ηλ_i|^{t/η} = e^{−r_i t} with r_i = −ln|1 − ηλ_i| / η (→ λ_i as η → 0;
    Jacot et al. 2018, §5).

    Args:
        rates: (K,) λ_i (e.g. from ``kernel_eigendecomposition``), with 0 < ηλ_i < 2 (stable,
            and ≠ 1, where the component is removed in one step).
        eta: Learning rate η > 0.

    Returns:
        r_i, (K,) float64.

    Raises:
        ValueError: If some η·λ_i is outside (0, 2) or equals 1.
    """
    lam = _f64("rates", rates, (1,))
    eta = check.finite_float("eta", eta, strictly_positive=True)
    step = eta * lam
    if bool(((step <= 0) | (step >= 2) | (step == 1)).any()):
        raise ValueError(f"eta·rates must lie in (0, 2) and differ from 1, got {step.tolist()}")
    return -torch.log(torch.abs(1.0 - step)) / eta


def rayleigh_quotients(kernel, vectors, rates, normalization: str = "mean") -> torch.Tensor:
    """Rayleigh quotients of an (empirical) kernel along reference eigenvectors, relative to rates.

    ρ_i = v_iᵀ Θ̂ v_i / (N λ_i) ("mean" loss; v_iᵀ Θ̂ v_i / λ_i for "sum"). ρ_i is the rate at
    which Θ̂ moves a residual lying along v_i, in units of the predicted rate λ_i: 1 when Θ̂
    equals the reference kernel.

    Args:
        kernel: Θ̂, (N, N).
        vectors: Reference eigenvectors v_i, (N, K) unit-norm columns.
        rates: Reference rates λ_i, (K,) non-zero.
        normalization: ``"mean"`` or ``"sum"`` loss.

    Returns:
        ρ, (K,) float64.

    Raises:
        ValueError: On mismatched shapes or a zero rate.
    """
    k = _kernel("kernel", kernel)
    v = _f64("vectors", vectors, (2,))
    lam = _f64("rates", rates, (1,))
    if v.shape[0] != k.shape[0] or v.shape[1] != lam.shape[0]:
        raise ValueError(f"vectors must be (N={k.shape[0]}, K) and rates (K,), got {tuple(v.shape)} "
                         f"and {tuple(lam.shape)}")
    if bool((lam == 0).any()):
        raise ValueError("rates must be non-zero")
    return torch.einsum("nk,nm,mk->k", v, k, v) * _rate_scale(normalization, k.shape[0]) / lam


def fit_rate_scale(t, coefficients, rates, *, floor: float = 0.05) -> float:
    """Common scale s of the predicted rates that best explains a residual's decay in a subspace.

    The residual's squared norm in the span of the K eigendirections, E(t) = Σ_i c_i(t)², is
    compared with its prediction Σ_i c_i(0)² e^{−2 s r_i t} (rates r_i, e.g. ``gd_decay_rates``):
    s minimises the squared error of ln E over the times with √E(t) > ``floor`` · √E(0). E is
    unchanged by rotations inside the subspace, so s is insensitive to how a perturbed kernel
    mixes (near-)degenerate eigendirections, which moves single components' rates (exactly
    invariant within a degenerate block). s = 1 when the rates are right, and a relative error
    δ of every r_i divides s by 1 + δ.

    Args:
        t: (T,) increasing times; coefficients: (T, K) residual coordinates c_i(t);
        rates: (K,) positive predicted rates r_i.
    Returns:
        s (float) in [1e-3, 1e3], or NaN with fewer than 3 usable times.
    """
    import math

    from scipy.optimize import minimize_scalar

    times = _f64("t", t, (1,)).numpy()
    c = _f64("coefficients", coefficients, (2,)).numpy()
    r = _f64("rates", rates, (1,)).numpy()
    if c.shape != (times.shape[0], r.shape[0]):
        raise ValueError(f"coefficients must be (T={times.shape[0]}, K={r.shape[0]}), got {c.shape}")
    if (r <= 0).any():
        raise ValueError(f"rates must be positive, got {r.tolist()}")
    energy = (c ** 2).sum(1)
    keep = energy > floor ** 2 * energy[0]
    if keep.sum() < 3:
        return math.nan
    t_k, log_e, c0 = times[keep], torch.as_tensor(energy[keep]).log().numpy(), c[0] ** 2

    def loss(log_s: float) -> float:
        pred = (c0 * torch.exp(torch.as_tensor(-2 * math.exp(log_s) * t_k[:, None] * r)).numpy()).sum(1)
        return float(((log_e - torch.as_tensor(pred).log().numpy()) ** 2).sum())

    best = minimize_scalar(loss, bounds=(math.log(1e-3), math.log(1e3)), method="bounded",
                           options={"xatol": 1e-10})
    return float(math.exp(best.x))


def analytic_stability_bound(x_train, *, depth: int, activation: str, sigma_w: float,
                             sigma_b: float, normalization: str = "mean") -> float:
    """Stability bound 2N/λ_max(Θ_∞) of full-batch GD (``max_learning_rate``) for an analytic NTK.

    Θ_∞ is the analytic infinite-width NTK of a fully-connected net on ``x_train``, in NTK
    parameterisation (the learning rate of a standard-parameterised net of width n is this
    bound divided by n, ``width_scaled_learning_rate``).

    Args:
        x_train: Inputs, (N, n0).
        depth, activation, sigma_w, sigma_b: As ``analytic_kernels``.
        normalization: ``"mean"`` is the ½·mean loss over the N points; ``"sum"`` the summed
            loss.

    Returns:
        The bound (float).

    Raises:
        ValueError: On bad arguments.
    """
    from .kernels import analytic_kernels

    kernels = analytic_kernels(x_train, depth=depth, activation=activation, sigma_w=sigma_w,
                               sigma_b=sigma_b)
    return max_learning_rate(kernels.ntk, normalization)


def linearized_gd_predict(net, x_train, y_train, steps, *, eta: float, x_test=None,
                          ntk_train=None, normalization: str = "mean") -> Prediction:
    """Full-batch GD on the linearisation of ``net`` around its current parameters θ_0, in
    closed form from the empirical NTK Θ̂_0 (Lee et al. 2019, eq. 6 and eqs. 9–10 in discrete
    time). The linearised model f^lin(x) = f_0(x) + ∇_θ f_0(x)(θ − θ_0) after k GD steps of size
    η on the ½·mean loss over the N training points is

        f^lin_k(x) = f_0(x) + Θ̂_0(x, X) Θ̂_0^{-1} (I − (I − η Θ̂_0/N)^k) (Y − f_0(X)).

    Args:
        net: a network mapping (N, n0) to (N,) or (N, k) (e.g. ``ntkutils.MLP``); not modified.
        x_train: (N, n0) inputs X; y_train: (N,) or (N, k) targets Y.
        steps: non-negative integer(s) k, scalar or (T,).
        eta: learning rate η, below the stability bound 2N/λ_max(Θ̂_0).
        x_test: optional (M, n0) inputs x.
        ntk_train: Θ̂_0(X, X) if already computed (as ``empirical_ntk(net, x_train)``); else
            computed here.
        normalization: ``"mean"`` (½·mean) or ``"sum"`` (½·sum, rates λ instead of λ/N).

    Returns:
        ``Prediction`` (float64, on the CPU): train (T, N[, k]) and test (T, M[, k]) or None.

    Raises:
        ValueError: bad inputs, or η not below the stability bound.
    """
    from .empirical import empirical_ntk

    p0 = next(net.parameters())
    x = check.as_inputs("x_train", x_train, dtype=p0.dtype, device=p0.device)
    xt = None if x_test is None else check.as_inputs("x_test", x_test, dtype=p0.dtype,
                                                     device=p0.device, n0=x.shape[1])
    with torch.no_grad():
        f0, g0 = (None if a is None else net(a).double().cpu() for a in (x, xt))
    k = empirical_ntk(net, x) if ntk_train is None else torch.as_tensor(ntk_train)
    k_test = None if xt is None else empirical_ntk(net, xt, x).double().cpu()
    y = torch.as_tensor(y_train).to(torch.float64).cpu()
    return gradient_descent_predict(k.double().cpu(), y, f0, steps, eta=eta, ntk_test_train=k_test,
                                    f0_test=g0, normalization=normalization)


@dataclass(frozen=True)
class JointGaussian:
    """Predicted outputs at R step counts and M test points, jointly over times (``gd_gaussian``).

    Attributes:
        mean: (R, M) float64 ndarray.
        cov: (R·M, R·M) float64 ndarray, rows ordered (time, point) as ``mean.reshape(-1)``.
    """

    mean: np.ndarray
    cov: np.ndarray

    @property
    def variance(self) -> np.ndarray:
        """(R, M) marginal variances."""
        return np.clip(np.diag(self.cov), 0.0, None).reshape(self.mean.shape)

    def select(self, times, points) -> "JointGaussian":
        """The prediction restricted to time indices ``times`` and point indices ``points``
        (e.g. ``slice(1, None)``, ``slice(0, 32)``): mean (R', M'), cov (R'·M', R'·M')."""
        idx = np.arange(self.mean.size).reshape(self.mean.shape)[times][:, points]
        flat = idx.reshape(-1)
        return JointGaussian(self.mean[times][:, points], self.cov[np.ix_(flat, flat)])

    def scaled(self, mean_factor: float) -> "JointGaussian":
        """The same prediction with its mean multiplied by ``mean_factor`` (a planted error)."""
        return JointGaussian(self.mean * mean_factor, self.cov)


def gd_gaussian(blocks: KernelBlocks, y_train, steps, *, eta: float, readout_only: bool = False,
                normalization: str = "mean") -> JointGaussian:
    """NTK-GP (or readout-trained NNGP) of an infinitely wide net trained by **gradient descent**
    with step η, not gradient flow: the closed forms of Lee et al. 2019 (eqs. 14–16, S22–S23)
    with e^{−Θt/N} replaced by (I − ηΘ/N)^k after k steps.

    With the training kernel Θ (K for ``readout_only``) and P_k = Θ(x,X) Θ^{-1}(I − (I − ηΘ/N)^k),
    f_k(x) = f_0(x) + P_k (Y − f_0(X)) for f_0 ~ GP(0, K), so
        μ_k = P_k Y,  Cov(f_k(x), f_j(x')) = K(x,x') − P_k K(X,x') − K(x,X) P_jᵀ + P_k K(X,X) P_jᵀ.
    For Θ = K this is S23's K − K(x,X)K^{-1}(I − D_k²)K(X,x') at k = j. As η → 0 at fixed t = kη
    it tends to the gradient-flow ``gp_prediction``.

    Args:
        blocks: ``KernelBlocks`` (NNGP, NTK) pairs, train (N, N), test_train (M, N), test (M, M).
        y_train: (N,) targets Y.
        steps: (R,) integers k >= 0.
        eta: step η > 0 with 0 < ηλ_i/N < 2 for every eigenvalue λ_i of the training kernel.
        readout_only: train the last layer only (Θ replaced by K).
        normalization: "mean" (½·mean loss, rates λ/N) or "sum" (rates λ).

    Returns:
        ``JointGaussian``: mean (R, M), cov (R·M, R·M), float64 ndarrays.

    Raises:
        ValueError: negative steps, bad η or normalization, an unstable step or a kernel that is
            not positive definite, non-finite inputs.
    """
    (k_tr, th_tr), (k_te_tr, th_te_tr), (k_te, _) = blocks.train, blocks.test_train, blocks.test
    kern, kern_te_tr = (k_tr, k_te_tr) if readout_only else (th_tr, th_te_tr)
    kern, kern_te_tr, k_tr, k_te_tr, k_te = (_f64(n, v, (2,)).cpu().numpy() for n, v in (
        ("kernel", kern), ("kernel_test_train", kern_te_tr), ("nngp_train", k_tr),
        ("nngp_test_train", k_te_tr), ("nngp_test", k_te)))
    y = _f64("y_train", y_train, (1,)).cpu().numpy()
    k_steps = np.asarray(steps, dtype=np.int64).reshape(-1)
    if (k_steps < 0).any():
        raise ValueError(f"steps must be non-negative integers, got {k_steps.tolist()}")
    if not (eta > 0 and np.isfinite(eta)):
        raise ValueError(f"eta must be a positive finite number, got {eta!r}")
    n = kern.shape[0]
    lam, vec = np.linalg.eigh(0.5 * (kern + kern.T))
    per = n if check.choice("normalization", normalization, NORMALIZATIONS) == "mean" else 1.0
    step = eta * lam / per
    if (step >= 2).any() or (lam <= 0).any():
        raise ValueError(f"eta={eta!r} is unstable or the kernel is not positive definite (η·λ/N in "
                         f"[{step.min():.3g}, {step.max():.3g}], must lie in (0, 2))")
    gain = (1.0 - (1.0 - step)[None, :] ** k_steps[:, None]) / lam[None, :]           # (R, N)
    p = np.einsum("mi,ri,ni->rmn", kern_te_tr @ vec, gain, vec)                       # (R, M, N)
    r, m = p.shape[:2]
    pf = p.reshape(r * m, n)
    cross = np.tile(pf @ k_te_tr.T, (1, r))                                           # P_k K(X,x')
    cov = np.tile(k_te, (r, r)) - cross - cross.T + pf @ k_tr @ pf.T
    return JointGaussian(p @ y, 0.5 * (cov + cov.T))


def flow_vs_gd_shift(blocks: KernelBlocks, y_train, steps, *, eta: float, n_members: int,
                     n_points: int | None = None) -> float:
    """How far the gradient-flow NTK-GP mean at t = k·η lies from the gradient-descent one after
    k = ``steps[1]`` steps, in units of the ensemble standard error σ_GD/√E:
    max_x |μ_flow(x) − μ_GD(x)| / √(σ²_GD(x)/E) over the first ``n_points`` test points.

    Args:
        blocks: ``KernelBlocks``; y_train: (N,); steps: step counts (index 1 is compared);
        eta: step η; n_members: ensemble size E >= 1; n_points: first test points (all: None).

    Returns:
        The largest shift (float).

    Raises:
        ValueError: fewer than two steps, E < 1, or as ``gd_gaussian`` / ``gp_prediction``.
    """
    from .stats import max_abs_z

    if len(steps) < 2 or isinstance(n_members, bool) or int(n_members) != n_members or n_members < 1:
        raise ValueError(f"steps must hold at least two counts and n_members be >= 1, got "
                         f"{list(steps)}, {n_members!r}")
    gd = gd_gaussian(blocks, y_train, steps, eta=eta)
    flow = gp_prediction(blocks, y_train, torch.tensor(steps, dtype=torch.float64) * eta)
    m = slice(0, n_points)
    return max_abs_z(flow.mean[1, m], gd.mean[1, m], np.sqrt(gd.variance[1, m] / n_members))
