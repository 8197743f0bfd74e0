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

import torch

from . import _validation as check

NORMALIZATIONS = ("mean", "sum")


@dataclass
class Prediction:
    """Function values along training. ``train``: (T, N[, k]); ``test``: (T, M[, k]) or None."""

    train: torch.Tensor
    test: torch.Tensor | None


@dataclass
class GaussianPrediction:
    """Gaussian over test outputs at each time: ``mean`` (T, M), ``covariance`` (T, M, M)."""

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

    Returns:
        rates (N,): λ_i/N for ``"mean"`` (Jacot's kernel-PCA eigenvalues), λ_i for ``"sum"``;
        eigenvectors (N, N): column i is the unit-norm eigenvector of rate i.
    """
    k = _kernel("ntk_train", ntk_train)
    lam, vec = torch.linalg.eigh(0.5 * (k + k.T))
    return lam.flip(0) * _rate_scale(normalization, k.shape[0]), vec.flip(1)


def max_learning_rate(ntk_train, normalization: str = "mean") -> float:
    """Largest stable GD step: η < 2/λ_max(Θ/N) = 2N/λ_max(Θ) (mean loss), 2/λ_max (summed)."""
    k = _kernel("ntk_train", ntk_train)
    lam_max = float(torch.linalg.eigvalsh(0.5 * (k + k.T))[-1])   # eigenvalues only: no vectors
    return 2.0 / (lam_max * _rate_scale(normalization, k.shape[0]))


def check_learning_rate(eta: float, ntk_train, normalization: str = "mean") -> float:
    """Return ``eta`` if 0 < η < 2/λ_max of the (normalised) kernel, else raise ``ValueError``."""
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
    """Per-output kernel (N, M, k, k) -> (N·k, M·k), index (i, a) -> i·k + a (the order of
    ``Y.reshape(-1)`` for Y of shape (N, k)); an (N, M) kernel is returned as it is."""
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

    Args:
        ntk_train: Θ(X, X), (N, N), or (N, N, k, k) per output pair (e.g. ``empirical_ntk`` of a
            network with k outputs). ntk_test_train: Θ(x, X), (M, N) or (M, N, k, k), optional.
        y_train, f0_train: targets and initial outputs on X, (N,) or (N, k).
        f0_test: initial outputs on the test inputs, (M,) or (M, k).
        t: time(s) t = steps × η ≥ 0 (``math.inf`` for the end point), scalar or (T,).
    Returns:
        ``Prediction`` with train (T, N[, k]) and test (T, M[, k]). The loss is ½·mean over the N
        inputs of the squared error summed over the k outputs (``"mean"``), or ½·sum (``"sum"``).
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

    ``steps``: non-negative integer(s) k, scalar or (T,). Raises ``ValueError`` if η is not below
    the stability bound 2N/λ_max. Otherwise as ``gradient_flow_predict`` (vector outputs too).
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
        residual: (N,) or (T, N).
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
    """Output distribution at time t of an infinitely wide network trained by gradient flow on MSE
    from random initialisation: the NTK-GP (Lee et al. 2019, eqs. 14–15).

    With P_t = Θ(x,X) Θ^{-1}(I − e^{−Θt/N}) and K the NNGP kernel,
        μ_t(x)     = P_t Y
        Σ_t(x, x') = K(x,x') + P_t K(X,X) P_tᵀ − P_t K(X,x') − K(x,X) P_tᵀ.
    At t = ∞ the mean is Θ(x,X)Θ^{-1}Y (kernel regression), not a GP posterior.

    Args:
        nngp_train, ntk_train: (N, N); nngp_test_train, ntk_test_train: (M, N);
        nngp_test: K(x, x'), (M, M); y_train: (N,); t: scalar or (T,) times (t = steps × η).
    """
    times = _times("t", t)
    p = _gp_operator(ntk_train, ntk_test_train, times, normalization, "ntk_train")
    return _gaussian(p, nngp_train, nngp_test_train, nngp_test, y_train)


def nngp_readout_predict(nngp_train, y_train, t, *, nngp_test_train, nngp_test,
                         normalization: str = "mean") -> GaussianPrediction:
    """Infinite-width network where only the readout layer is trained (Lee et al. 2019, eqs. S22–S23):
    μ_t = K(x,X)K^{-1}(I − e^{−Kt/N})Y, Σ_t = K(x,x') − K(x,X)K^{-1}(I − e^{−2Kt/N})K(X,x').
    At t = ∞ this is the exact (noise-free) GP posterior with the NNGP kernel.
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
    """(NNGP, NTK) pairs of float64 blocks: ``train`` (N, N), ``test_train`` (M, N), ``test`` (M, M)."""

    train: tuple[torch.Tensor, torch.Tensor]
    test_train: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]


def kernel_blocks(kernel_fn, x_train, x_test) -> KernelBlocks:
    """The three kernel blocks a GP prediction needs, from ``kernel_fn(a, b=None) -> (nngp, ntk)``,
    e.g. ``kernels.analytic_kernel_fn(...)`` or ``ensembles.network_kernel_fn(net)``. Compute
    them once and reuse them for every time and both dynamics (``gp_prediction``)."""
    return KernelBlocks(tuple(kernel_fn(x_train, None)), tuple(kernel_fn(x_test, x_train)), tuple(kernel_fn(x_test, None)))


def gp_prediction(blocks: KernelBlocks, y_train, t, *, readout_only: bool = False,
                  normalization: str = "mean") -> GaussianPrediction:
    """``ntk_gp_predict`` (all layers trained) or, with ``readout_only``, ``nngp_readout_predict``
    (last layer trained; the GP posterior at t = ∞) on precomputed ``blocks``.

    Args:
        y_train (N,); t: scalar or (T,) times (``math.inf`` allowed).
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
    Jacot et al. 2018, §5). ``rates``: (K,) λ_i (e.g. from ``kernel_eigendecomposition``), with
    0 < ηλ_i < 2 (stable, and ≠ 1, where the component is removed in one step).
    Returns (K,) float64.
    """
    lam = _f64("rates", rates, (1,))
    eta = check.finite_float("eta", eta, strictly_positive=True)
    step = eta * lam
    if bool(((step <= 0) | (step >= 2) | (step == 1)).any()):
        raise ValueError(f"eta·rates must lie in (0, 2) and differ from 1, got {step.tolist()}")
    return -torch.log(torch.abs(1.0 - step)) / eta


def rayleigh_quotients(kernel, vectors, rates, normalization: str = "mean") -> torch.Tensor:
    """Rayleigh quotients of an (empirical) kernel along reference eigenvectors, relative to
    the reference rates: ρ_i = v_iᵀ Θ̂ v_i / (N λ_i) ("mean" loss; v_iᵀ Θ̂ v_i / λ_i for "sum").

    ρ_i is the rate at which Θ̂ moves a residual lying along v_i, in units of the predicted
    rate λ_i: 1 when Θ̂ equals the reference kernel. ``kernel``: (N, N); ``vectors``: (N, K)
    unit-norm columns; ``rates``: (K,) non-zero. Returns (K,) float64.
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
