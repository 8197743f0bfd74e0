"""Spectra of kernel Gram matrices: a stated error bound of a computed kernel, one rule that
certifies λ_min as positive or zero against it (Weyl), and the harmonic analysis on the sphere.

The error bound (``entrywise_error``, ``kernel_error_bound``)
-------------------------------------------------------------
A kernel Θ̂ computed in float64 (``ntkutils.kernels``) differs from the exact kernel Θ of the
same stored inputs by E = Θ̂ − Θ, with, entry by entry,

    |E_ij| ≤ r · L · ε · |Θ̂_ij|  +  2 · Λ_ij · δθ_ij                                  (1)

* **round-off of the recursion**: each of the L layers applies a few tens of roundings (and,
  for activations without a closed form, a trapezoid rule accurate to ~ε) to every entry;
  r = ``ROUNDING`` = 32 per layer.
* **angle error**: the kernels see an input pair through its correlation ρ = x·x'/(|x||x'|),
  computed with an absolute error δρ ≤ (n0 + 4L)·ε (the dot product of n0 terms, the
  normalisation, and the correlation recomputed in each layer; the layer maps are
  non-expanding in ρ, so these add). The angle θ = arccos ρ then carries the error

      δθ_ij = min( arccos(1 − 2δρ),  δρ / √(1 − (|ρ̂_ij| + δρ)²) ):

  |arccos′| = 1/√(1 − ρ²) grows towards ρ = ±1, so an interval of length 2δρ changes the angle
  most at an end, by arccos(1 − 2δρ) ≈ 2√δρ (the √ε error of nearly parallel or antipodal
  distinct inputs); away from ±1 the derivative bound is smaller. Identical inputs have
  δθ = 0 (``ntkutils.kernels`` sets their correlation to exactly 1).
  Λ_ij is the kernel's Lipschitz constant in the angle near θ̂_ij: the largest difference
  quotient |Θ(θ_{g+1}) − Θ(θ_g)|/h of the kernel of two inputs with the norms of x_i, x_j at
  1024 angles θ_g in [0, π], over the grid cells that meet [θ̂_ij − δθ_ij, θ̂_ij + δθ_ij]; the
  factor 2 covers the variation of the derivative inside a cell. For relu the NTK is Lipschitz
  in θ but not in ρ (its derivative kernel (π − θ)/(2π) has slope −1/(2π) in θ), which is why
  the √ε appears.

Weyl's inequality |λ_i(Θ̂) − λ_i(Θ)| ≤ ‖E‖₂ ≤ ‖E‖_F, plus the backward error of the symmetric
eigensolver (≤ N·ε·‖Θ̂‖₂), gives the bound B on every computed eigenvalue's error
(``kernel_error_bound``). ``certify``: λ_min is *positive* if λ̂_min > B, *zero* (the Gram matrix
is singular within the bound) if |λ̂_min| ≤ B, and *undecided* if λ̂_min < −B (impossible for a
positive semi-definite kernel if (1) holds: the bound is then wrong for that case).
The bound is tested against the same kernels in 40-digit arithmetic (``mpmath``) in
``tests/unit/test_spectral.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from . import _validation as check
from .kernels import analytic_kernels

__all__ = ["EPS", "ROUNDING", "Certificate", "angle_error", "certify", "circle_spectrum",
           "circle_spectrum_error", "correlation_error", "entrywise_error", "harmonic_dimension",
           "kernel_error_bound", "relu_circle_coefficients",
           "kernel_circle_spectrum", "relu_circle_fft_coefficients", "ntk_certificate",
           "ntk_certificates", "deciding_certificate", "certificate_claim",
           "analytic_circle_spectra", "closed_form_deviation"]

EPS = float(np.finfo(np.float64).eps)
ROUNDING = 32           # r in (1): roundings per layer and entry, in units of ε
_GRID = 1024           # angle cells of the Lipschitz profile on [0, π]
KernelFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def correlation_error(n0: int, depth: int) -> float:
    """δρ = (n0 + 4L)·ε: bound on the absolute error of a computed correlation (see module).

    Args:
        n0: Input dimension (positive).
        depth: L (positive).

    Returns:
        δρ as a float.
    """
    return (check.positive_int("n0", n0) + 4 * check.positive_int("depth", depth)) * EPS


def angle_error(rho, delta: float) -> np.ndarray:
    """Bound on |arccos ρ − arccos ρ̂| for |ρ − ρ̂| ≤ ``delta``, elementwise in ρ̂.

    Args:
        rho: Computed correlations ρ̂, any shape.
        delta: Bound on |ρ − ρ̂|.

    Returns:
        The angle error bound, float64 array of the shape of ``rho``.
    """
    a = np.abs(np.asarray(rho, dtype=np.float64))
    end = np.arccos(max(1.0 - 2.0 * delta, -1.0))
    room = 1.0 - np.minimum(a + delta, 1.0) ** 2
    with np.errstate(divide="ignore"):
        inner = np.where(room > 0, delta / np.sqrt(room), np.inf)
    return np.minimum(end, inner)


def _rows(x) -> np.ndarray:
    x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    return x.astype(np.float64)


def _angle_lipschitz(kernel_fn: KernelFn, n0: int, r1: float, r2: float) -> np.ndarray:
    """Difference quotients |Θ(θ_{g+1}) − Θ(θ_g)|/h of the kernel of r1·e1 and r2·(cos θ e1 +
    sin θ e2) on the grid θ_g = gπ/``_GRID``: shape (``_GRID``,)."""
    theta = torch.linspace(0.0, math.pi, _GRID + 1, dtype=torch.float64)
    u = torch.zeros(1, n0, dtype=torch.float64)
    u[0, 0] = r1
    v = torch.zeros(_GRID + 1, n0, dtype=torch.float64)
    v[:, 0], v[:, 1] = r2 * torch.cos(theta), r2 * torch.sin(theta)
    f = kernel_fn(u, v)[0].detach().cpu().numpy().astype(np.float64)
    return np.abs(np.diff(f)) / (math.pi / _GRID)


def entrywise_error(k, x1, x2=None, *, kernel_fn: KernelFn, depth: int,
                    rounding: float = ROUNDING) -> np.ndarray:
    """Bound (1) on |Θ̂ − Θ| entry by entry.

    Args:
        k: The computed kernel, (N, M).
        x1: Its row inputs, (N, n0); needs n0 ≥ 2.
        x2: Its column inputs, (M, n0) (None: x1).
        kernel_fn: ``kernel_fn(a, b) -> (len(a), len(b))`` tensor: the same kernel
            (architecture fixed), used for the Lipschitz profile in the angle, once per pair of
            distinct input norms (norms equal to 1e−9 relative count as one).
        depth: L.
        rounding: r in (1): roundings per layer and entry, in units of ε.

    Returns:
        The bound, shape (N, M) float64.

    Raises:
        ValueError: On inconsistent shapes or n0 < 2.
    """
    depth = check.positive_int("depth", depth)
    a = _rows(x1)
    b = a if x2 is None else _rows(x2)
    kk = _rows(k)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or kk.shape != (len(a), len(b)):
        raise ValueError(f"k must have shape (len(x1), len(x2)) and x1, x2 the same n0, got k "
                         f"{kk.shape}, x1 {a.shape}, x2 {b.shape}")
    n0 = a.shape[1]
    if n0 < 2:
        raise ValueError(f"entrywise_error needs inputs with n0 >= 2 (an angle), got n0={n0}")
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    rho = np.clip((a @ b.T) / np.outer(na, nb), -1.0, 1.0)
    dtheta = angle_error(rho, correlation_error(n0, depth))
    same = (a[:, None, :] == b[None, :, :]).all(-1)
    dtheta[same] = 0.0
    theta, h = np.arccos(rho), math.pi / _GRID
    first, last = (np.clip(np.floor(t / h).astype(int), 0, _GRID - 1)
                   for t in (theta - dtheta, theta + np.minimum(dtheta, h)))
    lip = np.empty_like(rho)
    key_a, key_b = np.round(np.log(na) * 1e9), np.round(np.log(nb) * 1e9)
    for ka in np.unique(key_a):
        for kb in np.unique(key_b):
            rows, cols = key_a == ka, key_b == kb
            s = _angle_lipschitz(kernel_fn, n0, float(na[rows][0]), float(nb[cols][0]))
            local = np.maximum(s[first], s[last])     # δθ ≤ h: at most two cells meet
            lip[np.ix_(rows, cols)] = local[np.ix_(rows, cols)]
    lip = np.where(dtheta > h, lip.max(), lip)    # δθ beyond a cell: the global maximum
    return rounding * depth * EPS * np.abs(kk) + 2.0 * lip * dtheta


def kernel_error_bound(k, x, *, kernel_fn: KernelFn, depth: int,
                       rounding: float = ROUNDING) -> float:
    """B = ‖E‖_F + N·ε·‖Θ̂‖₂: bound on the error of every computed eigenvalue of a Gram matrix.

    Args:
        k: The symmetric Gram matrix, (N, N).
        x: Its inputs, (N, n0).
        kernel_fn, depth, rounding: As ``entrywise_error``, which gives E.

    Returns:
        B as a float.
    """
    e = entrywise_error(k, x, kernel_fn=kernel_fn, depth=depth, rounding=rounding)
    kk = _rows(k)
    return float(np.linalg.norm(e) + len(kk) * EPS * np.linalg.norm(kk, 2))


@dataclass(frozen=True)
class Certificate:
    """λ_min of a Gram matrix against an eigenvalue error bound.

    Attributes:
        eigenvalues: Ascending, (N,).
        bound: B.
        status: Status of λ_min: "positive" (λ̂_min > B), "zero" (|λ̂_min| ≤ B) or
            "undecided" (λ̂_min < −B).
        rank: Number of eigenvalues > B.
        undecided: Number of eigenvalues < −B.
    """

    eigenvalues: np.ndarray
    bound: float
    status: str
    rank: int
    undecided: int

    @property
    def ratio(self) -> float:
        """λ̂_min / λ̂_max."""
        return float(self.eigenvalues[0] / self.eigenvalues[-1])

    @property
    def bound_ratio(self) -> float:
        """B / λ̂_max: the smallest λ_min/λ_max the rule can certify as positive."""
        return float(self.bound / self.eigenvalues[-1])


def certify(k, bound: float) -> Certificate:
    """Apply the one rule to a symmetric Gram matrix with an eigenvalue error bound.

    Args:
        k: The symmetric Gram matrix, (N, N).
        bound: The error bound B ≥ 0.

    Returns:
        A ``Certificate``.
    """
    bound = check.finite_float("bound", bound, minimum=0.0)
    e = np.linalg.eigvalsh(_rows(k))
    lo = e[0]
    status = "positive" if lo > bound else ("zero" if abs(lo) <= bound else "undecided")
    return Certificate(e, bound, status, int((e > bound).sum()), int((e < -bound).sum()))


def harmonic_dimension(n0: int, degree: int) -> int:
    """Σ_{k≤D} N(n0, k): the dimension of the polynomials of degree ≤ D on S^{n0−1}.

    N(n0, k) = C(k+n0−1, n0−1) − C(k+n0−3, n0−1) spherical harmonics of degree k
    (2D+1 on the circle, (D+1)² on S²).

    Args:
        n0: Input dimension (positive).
        degree: D ≥ 0.

    Returns:
        The dimension as an int.
    """
    n0, degree = check.positive_int("n0", n0), check.nonnegative_int("degree", degree)
    return sum(math.comb(k + n0 - 1, n0 - 1) - (math.comb(k + n0 - 3, n0 - 1) if k >= 2 else 0)
               for k in range(degree + 1))


def circle_spectrum(values) -> np.ndarray:
    """μ_k, k = 0…M/2: Fourier coefficients of γ ↦ κ(cos γ) sampled at γ_j = 2πj/M.

    μ_k = (1/M) Σ_j κ_j cos(kγ_j) (the eigenvalues of the circulant Gram matrix on those M
    points, divided by M; each 0 < k < M/2 is a double eigenvalue).

    Args:
        values: κ_j at the M points (flattened).

    Returns:
        μ_k, (M//2 + 1,) float64.
    """
    f = _rows(values).reshape(-1)
    return np.fft.rfft(f).real / len(f)


def circle_spectrum_error(values, entry_error) -> float:
    """Bound on max_k |Δμ_k| of ``circle_spectrum``.

    The kernel errors averaged, (1/M)Σ_j |E_j|, plus the FFT's round-off, 5·log₂M·ε·max|κ_j|.

    Args:
        values: κ_j at the M points (flattened).
        entry_error: Bounds E_j on the errors of κ_j (flattened).

    Returns:
        The bound as a float.
    """
    f, e = _rows(values).reshape(-1), _rows(entry_error).reshape(-1)
    return float(e.mean() + 5 * math.log2(len(f)) * EPS * np.abs(f).max())


def relu_circle_coefficients(k, kind: str = "ntk") -> np.ndarray:
    """Exact μ_k of the two-layer relu kernels on the circle (σ_w = 1, no bias, n0 = 2).

    Θ = (sin γ + 2(π−γ)cos γ)/(4π) and Σ = (sin γ + (π−γ)cos γ)/(4π) give
    NTK μ_k = (k²+3)/(2π²(k²−1)²), NNGP μ_k = 1/(π²(k²−1)²) for even k, 0 for odd k
    (Cho & Saul 2009 arc-cosine kernels; the k^−2, k^−4 laws of Bietti & Mairal 2019).

    Args:
        k: Integer frequencies k ≥ 2, any shape.
        kind: ``"ntk"`` or ``"nngp"``.

    Returns:
        μ_k, float64 array of the shape of ``k``.

    Raises:
        ValueError: If some k < 2 or is not an integer.
    """
    kind = check.choice("kind", kind, ("ntk", "nngp"))
    k = np.asarray(k, dtype=np.float64)
    if np.any(k < 2) or np.any(k != np.round(k)):
        raise ValueError(f"k must be integers >= 2, got {k}")
    even = np.round(k) % 2 == 0
    if kind == "ntk":
        mu = (k**2 + 3) / (2 * math.pi**2 * (k**2 - 1) ** 2)
    else:
        mu = 1 / (math.pi**2 * (k**2 - 1) ** 2)
    return np.where(even, mu, 0.0)


def relu_circle_fft_coefficients(k, samples: int, kind: str = "ntk", *, terms: int = 100_000):
    """What an M-point FFT of the two-layer relu kernel returns at frequency k in exact arithmetic.

    The aliased sum Σ_{|j|≤J} μ_{|k+jM|} of ``relu_circle_coefficients``.

    Args:
        k: Frequencies, 2 ≤ k < M/2.
        samples: M, even.
        kind: ``"ntk"`` or ``"nngp"``.
        terms: J (≥ 2).

    Returns:
        (coefficients, tail) where ``tail`` bounds the omitted |j| > J terms for k < M/2, from
        μ_m ≤ 1/(π²m²) (NTK, m ≥ 3) and μ_m ≤ 2/(π²m⁴) (NNGP) with jM − k ≥ (j − 1)M:
        2/(π²M²(J − 1)), resp. 4/(3π²M⁴(J − 1)³).

    Raises:
        ValueError: If M is odd, some k ≥ M/2, or J < 2.
    """
    samples = check.positive_int("samples", samples)
    terms = check.positive_int("terms", terms)
    k = np.asarray(k, dtype=np.float64)
    if samples % 2 or np.any(k >= samples / 2):
        raise ValueError(f"samples must be even and k < samples/2, got samples={samples}, k={k}")
    shifts = np.arange(1, terms + 1, dtype=np.float64)[:, None] * samples
    aliases = (relu_circle_coefficients(shifts - k, kind)
               + relu_circle_coefficients(shifts + k, kind))
    if terms < 2:
        return relu_circle_coefficients(k, kind) + aliases.sum(0), math.inf
    tail = (2 / (math.pi**2 * samples**2 * (terms - 1)) if kind == "ntk"
            else 4 / (3 * math.pi**2 * samples**4 * (terms - 1) ** 3))
    return relu_circle_coefficients(k, kind) + aliases.sum(0), float(tail)


def kernel_circle_spectrum(kernel_fn: KernelFn, samples: int, depth: int,
                           rounding: float = ROUNDING) -> tuple[np.ndarray, float]:
    """μ_k (``circle_spectrum``) of a kernel row on M points of the circle, with an error bound.

    The row is κ(x_0, x_j) on x_j = (cos 2πj/M, sin 2πj/M).

    Args:
        kernel_fn: ``kernel_fn(a, b)``: the kernel of depth ``depth`` (n0 = 2).
        samples: M.
        depth: L.
        rounding: As ``entrywise_error``.

    Returns:
        (μ_k, bound): the coefficients and the bound on their error (``circle_spectrum_error``
        of the entry errors (1)).
    """
    samples = check.positive_int("samples", samples)
    gamma = 2 * math.pi * torch.arange(samples, dtype=torch.float64) / samples
    x = torch.stack([torch.cos(gamma), torch.sin(gamma)], dim=1)
    row = kernel_fn(x[:1], x)
    error = entrywise_error(row, x[:1], x, kernel_fn=kernel_fn, depth=depth, rounding=rounding)
    return circle_spectrum(row), circle_spectrum_error(row, error)


# --------------------------------------------------------------------------- notebook 03 helpers
def ntk_certificate(x, depth: int, k=None, *, activation: str = "relu", sigma_w: float = 1.0,
                    sigma_b: float | None = 0.1) -> Certificate:
    """The one rule (``certify``) applied to the analytic NTK Gram matrix of ``x``.

    Certifies λ_min of Θ^(L)_∞(x, x) against B = ‖E‖_F + N·ε·λ̂_max (``kernel_error_bound``,
    E bounded entry by entry by (1)); Jacot et al. 2018, Prop. 2 predicts λ_min > 0 on the
    sphere for L ≥ 2 and a non-polynomial σ.

    Args:
        x: inputs, shape (N, n0) with n0 ≥ 2, float64 tensor or array.
        depth: L, the number of weight layers.
        k: the Gram matrix (N, N) if already computed (e.g. one layer of
            ``analytic_kernels(..., return_layers=True)``); None: computed here.
        activation, sigma_w, sigma_b: the architecture, as in ``analytic_kernels``
            (``sigma_b=None``: no bias).

    Returns:
        The ``Certificate`` (ascending eigenvalues, bound B, status, rank, undecided count).

    Raises:
        ValueError: bad depth, activation or scales, n0 < 2, or ``k`` not of shape (N, N).
    """
    def kernel_fn(a, b=None):
        return analytic_kernels(a, b, depth=depth, activation=activation, sigma_w=sigma_w,
                                sigma_b=sigma_b).ntk

    k = kernel_fn(x) if k is None else k
    return certify(k, kernel_error_bound(k, x, kernel_fn=kernel_fn, depth=depth))


def ntk_certificates(x, depths, *, activation: str = "relu", sigma_w: float = 1.0,
                     sigma_b: float | None = 0.1) -> dict[int, Certificate]:
    """``ntk_certificate`` for several depths from one recursion of the analytic kernels.

    Args:
        x: inputs, shape (N, n0) with n0 ≥ 2.
        depths: the depths L (non-empty iterable of int ≥ 1).
        activation, sigma_w, sigma_b: as in ``analytic_kernels``.

    Returns:
        ``{L: Certificate}`` in the order of ``depths``.

    Raises:
        ValueError: no depths, or as ``ntk_certificate``.
    """
    depths = [check.positive_int("depth", L) for L in depths]
    if not depths:
        raise ValueError("depths must name at least one depth, got none")
    layers = analytic_kernels(x, depth=max(depths), activation=activation, sigma_w=sigma_w,
                              sigma_b=sigma_b, return_layers=True).layers
    return {L: ntk_certificate(x, L, layers[L - 1].ntk, activation=activation, sigma_w=sigma_w,
                               sigma_b=sigma_b) for L in depths}


def deciding_certificate(certs, want: str) -> Certificate:
    """The case that decides a claim over several certificates.

    Args:
        certs: non-empty sequence of ``Certificate``.
        want: ``"positive"`` (the case with the smallest λ̂_min/B: closest to losing its
            positivity) or ``"zero"`` (the case with the largest |λ̂_min|/B: closest to
            being certified nonzero).

    Returns:
        The first such certificate in ``certs``.

    Raises:
        ValueError: empty ``certs`` or ``want`` not "positive"/"zero".
    """
    want = check.choice("want", want, ("positive", "zero"))
    certs = list(certs)
    if not certs:
        raise ValueError("certs must hold at least one Certificate, got none")
    if want == "positive":
        return min(certs, key=lambda c: c.eigenvalues[0] / c.bound)
    return min(certs, key=lambda c: -abs(c.eigenvalues[0]) / c.bound)


def certificate_claim(claims, name: str, paper: str, certs, want: str):
    """Record the rule over several cases as one deterministic claim in ``claims``.

    The claim PASSes iff every certificate's status is ``want``; its measured value is the
    deciding case's λ̂_min/λ̂_max (``deciding_certificate``) and its resolution that case's
    B/λ̂_max (the smallest λ_min/λ_max the rule can tell from 0), with α = 0.

    Args:
        claims: a ``ClaimSet`` (``nb.claims``).
        name, paper: the claim's name and source.
        certs: non-empty sequence of ``Certificate``.
        want: ``"positive"`` or ``"zero"``.

    Returns:
        The recorded ``Claim``.

    Raises:
        ValueError: as ``deciding_certificate``.
    """
    certs = list(certs)
    c = deciding_certificate(certs, want)
    return claims.check(name, paper, all(k.status == want for k in certs), c.ratio,
                        f"{want} (B/λ_max {c.bound_ratio:.1e})", digits=2,
                        resolution=c.bound_ratio, resolution_kind="bound", alpha=0.0)


def analytic_circle_spectra(samples: int, *, depths, sigma_bs, kinds=("ntk", "nngp"),
                            activation: str = "relu", sigma_w: float = 1.0):
    """Fourier spectra of analytic kernels on the circle, with the bound on their error.

    On S¹ a dot-product kernel κ(cos(γ − γ')) = Σ_k μ_k cos(k(γ − γ')) (μ_k counted once for
    k = 0 and twice for 0 < k < M/2) has the Gram eigenvalues M·μ_k on M equally spaced
    points; ``kernel_circle_spectrum`` returns μ_k, k = 0…M/2, by FFT of one kernel row, and
    max_k |Δμ_k| from the entry bound (1).

    Args:
        samples: M, the number of angles (even).
        depths: the depths L (iterable of int ≥ 1).
        sigma_bs: the bias scales (iterable; None: no bias).
        kinds: which kernels, among ``"ntk"`` and ``"nngp"``.
        activation, sigma_w: as in ``analytic_kernels`` (input dimension n0 = 2).

    Returns:
        ``(spectra, bounds)``: dicts keyed ``(L, sigma_b, kind)`` in the order depths ×
        sigma_bs × kinds, of μ_k (shape (M/2 + 1,), float64) and of its error bound (float).

    Raises:
        ValueError: bad ``samples``, ``kind``, depth, activation or scales.
    """
    spectra, bounds = {}, {}
    for depth in depths:
        for sigma_b in sigma_bs:
            for kind in kinds:
                kind = check.choice("kind", kind, ("ntk", "nngp"))

                def kernel_fn(u, v, depth=depth, sigma_b=sigma_b, kind=kind):
                    return getattr(analytic_kernels(u, v, depth=depth, activation=activation,
                                                    sigma_w=sigma_w, sigma_b=sigma_b), kind)

                key = (depth, sigma_b, kind)
                spectra[key], bounds[key] = kernel_circle_spectrum(kernel_fn, samples, depth)
    return spectra, bounds


def closed_form_deviation(measured, predicted, error_bound) -> float:
    """max_k |μ̂_k − μ_k| / b: the largest deviation of measured coefficients from a closed form.

    Args:
        measured: μ̂_k, shape (K,).
        predicted: μ_k, shape (K,).
        error_bound: b > 0, a float or shape (K,).

    Returns:
        The deviation in units of the error bound (float; < 1: the closed form holds within
        the bound).

    Raises:
        ValueError: shapes that differ or an error bound that is not positive.
    """
    m = np.asarray(measured, dtype=np.float64)
    p = np.asarray(predicted, dtype=np.float64)
    b = np.asarray(error_bound, dtype=np.float64)
    if m.ndim != 1 or m.shape != p.shape or b.ndim > 1 or (b.ndim == 1 and b.shape != m.shape):
        raise ValueError(f"measured and predicted must be (K,) and error_bound a float or (K,), "
                         f"got {m.shape}, {p.shape}, {b.shape}")
    if not np.all(b > 0):
        raise ValueError(f"error_bound must be positive, got {error_bound!r}")
    return float((np.abs(m - p) / b).max()) if b.ndim else float(np.abs(m - p).max() / b)


def certificate_summary(certs) -> dict:
    """``{key: {ratio, bound_ratio, status, rank}}`` of certificates, for the results file.

    Args:
        certs: A (possibly nested) dict of ``Certificate``, e.g. ``{activation: {L: Certificate}}``.

    Returns:
        A dict of the same nesting with ``{ratio, bound_ratio, status, rank}`` per certificate.

    Raises:
        ValueError: a value that is neither a ``Certificate`` nor a dict of them.
    """
    out = {}
    for key, c in dict(certs).items():
        if isinstance(c, Certificate):
            out[key] = dict(ratio=c.ratio, bound_ratio=c.bound_ratio, status=c.status, rank=c.rank)
        elif isinstance(c, dict):
            out[key] = certificate_summary(c)
        else:
            raise ValueError(f"values must be Certificates or dicts of them, got {c!r} at {key!r}")
    return out


def certificate_report(series, key: str, *, ratio: bool = False) -> str:
    """One line per label of ``series``: ``"<label>: <key>=<x>: <status>, …"``.

    Args:
        series: ``{label: {x: Certificate}}``.
        key: The name printed for x.
        ratio: Print ``"<key>=<x>: <λ̂_min/λ̂_max> (<status>)"`` instead (ratio to 2
            significant digits).

    Returns:
        The lines joined by newlines; labels right-aligned to 5 characters.
    """
    def case(x, c):
        return f"{key}={x}: " + (f"{c.ratio:.1e} ({c.status})" if ratio else c.status)

    return "\n".join(f"{label:>5}: " + ", ".join(case(x, c) for x, c in certs.items())
                     for label, certs in series.items())


def polynomial_ranks(certs, degrees) -> dict:
    """Measured and predicted ranks of Gram matrices of polynomial activations on the sphere.

    With σ a polynomial of degree p, Θ^(L)_∞ on S^{n0−1} is a polynomial of degree D = p^(L−1)
    in x·x' (with a bias, every degree ≤ D present), so its Gram matrix on more points has rank
    Σ_{k≤D} N(n0, k) (``harmonic_dimension``).

    Args:
        certs: ``{(n0, activation, L): Certificate}``.
        degrees: ``{(activation, L): p}``, the degree of each activation.

    Returns:
        ``{(n0, activation, L): (measured, predicted)}``: measured = the certificate's rank
        (eigenvalues > B), or −1 when an eigenvalue is undecided (< −B).

    Raises:
        ValueError: a key of ``certs`` without its degree, or a bad n0, L or degree.
    """
    out = {}
    for (n0, a, L), c in certs.items():
        if (a, L) not in degrees:
            raise ValueError(f"degrees has no entry for ({a!r}, {L}); it has {list(degrees)}")
        degree = check.nonnegative_int("degree", degrees[a, L]) ** (check.positive_int("L", L) - 1)
        out[n0, a, L] = (c.rank if c.undecided == 0 else -1, harmonic_dimension(n0, degree))
    return out


def rank_claim(claims, name: str, paper: str, ranks, planted_error: float = 0.0):
    """One exact, deterministic claim: every measured rank equals its (scaled) prediction.

    The claim holds iff every measured rank equals round((1 + planted_error) · predicted). Its
    measured value is the number of matching cases, expected "K of K".

    Args:
        claims: A ``ClaimSet`` (``nb.claims``).
        name: The claim's name.
        paper: The claim's source.
        ranks: ``{case: (measured, predicted)}``, e.g. ``polynomial_ranks``.
        planted_error: Relative error planted in the predictions.

    Returns:
        The recorded ``Claim``.

    Raises:
        ValueError: empty ``ranks``.
    """
    if not ranks:
        raise ValueError("ranks must hold at least one case, got none")
    hits = sum(m == round((1 + planted_error) * q) for m, q in ranks.values())
    return claims.check(name, paper, hits == len(ranks), hits, f"{len(ranks)} of {len(ranks)}",
                        digits=2, resolution_kind="exact", alpha=0.0)


@dataclass(frozen=True)
class ReluCircleSpectra:
    """The Fourier spectra of the relu kernels on the circle and what notebook 03 reads off
    them (``relu_circle_spectra``). Keys ``(L, sigma_b, kind)`` as ``analytic_circle_spectra``.

    spectra, bounds: μ̂_k (k = 0…M/2) and the bound on their error; fits: ``{kind: SlopeFit}``
    of log μ̂_k against log k over ``fit_k`` at L = 2 without bias; closed: ``{kind: (μ̃_k,
    tail)}``, the aliased closed form at ``closed_k`` (``relu_circle_fft_coefficients``, σ_w = 1)
    and the bound on its omitted aliases; parity: ``{key: max_{k∈odd_k} |μ̂_k| / |μ̂_2|}``.
    """

    spectra: dict
    bounds: dict
    fits: dict
    closed: dict
    parity: dict
    closed_k: np.ndarray
    odd_k: np.ndarray
    sigma_w: float
    planted_error: float

    def deviation(self, scale: float = 1.0) -> float:
        """max over kinds of ``closed_form_deviation`` at L = 2 without bias: |μ̂_k − s·μ̃_k·σ_w⁴|
        over the error bound (the FFT's plus the omitted aliases), s = ``scale`` · (1 +
        planted_error) (``scale``: the prediction's factor, for ``ClaimSet.less_than``)."""
        s = scale * (1 + self.planted_error) * self.sigma_w**4
        return max(closed_form_deviation(self.spectra[2, None, kd][self.closed_k], s * mu,
                                         self.bounds[2, None, kd] + tail)
                   for kd, (mu, tail) in self.closed.items())

    def closed_form(self) -> dict:
        """``{kind: σ_w⁴ μ̃_k}`` at ``closed_k``: the closed form as drawn."""
        return {kd: self.sigma_w**4 * mu for kd, (mu, _) in self.closed.items()}

    def parity_bound(self, key) -> float:
        """The error bound of the spectrum ``key`` over |μ̂_2|: the threshold of the parity
        claims."""
        return float(self.bounds[key] / abs(self.spectra[key][2]))

    def report(self) -> str:
        """The printed numbers: per spectrum, max odd |μ̂_k|/μ̂_2 and the error bound/μ̂_2; the
        fitted slopes and the closed-form deviation (``deviation(1.0)``)."""
        lines = [f"L={L}, β={b}, {kd:>4}: max odd |μ_k|/μ_2 = {self.parity[L, b, kd]:.1e}, "
                 f"error bound/μ_2 = {self.parity_bound((L, b, kd)):.0e}"
                 for L, b, kd in self.spectra]
        slopes = ", ".join(f"{kd} {f.slope:.4f}" for kd, f in self.fits.items())
        return "\n".join(lines + [f"slopes: {slopes}; closed form: max deviation / error bound "
                                  f"= {self.deviation(1.0):.2f}"])

    def metrics(self) -> dict:
        """The results-file entries: slopes, odd/mu2, FFT error bounds, deviation."""
        return {"slopes": self.fits, "odd/mu2": self.parity, "FFT error bounds": self.bounds,
                "deviation": self.deviation(1.0)}


def relu_circle_spectra(samples: int, *, depths, sigma_bs, fit_k, closed_k, odd_k,
                        sigma_w: float = 1.0, kinds=("ntk", "nngp"), n_boot: int = 200,
                        seed: int = 0, planted_error: float = 0.0) -> ReluCircleSpectra:
    """Spectra of the relu NTK and NNGP on the circle, their decay exponents, closed form and
    parity (Bietti & Mairal 2019; Basri et al. 2019).

    μ̂_k by FFT of one kernel row on M = ``samples`` angles with their error bound
    (``analytic_circle_spectra``); the slope of log μ̂_k on log k over ``fit_k`` at L = 2
    without bias (``stats.loglog_slope`` with ``n_boot``, ``seed``; expected −2 for the NTK, −4
    for the NNGP); the closed form of the two-layer kernels aliased to M points,
    μ̃_k = Σ_j μ_{|k+jM|} with μ_k^Θ = (k²+3)/(2π²(k²−1)²), μ_k^Σ = 1/(π²(k²−1)²) (even k),
    at ``closed_k``; and max_{k∈odd_k} |μ̂_k|/|μ̂_2| of every spectrum (0 for L = 2 without bias).

    Args:
        samples: M (even).
        depths, sigma_bs: the depths and bias scales (must include 2 and None).
        fit_k, closed_k, odd_k: integer frequencies in [2, M/2) (fit_k, closed_k) and [0, M/2]
            (odd_k), 1-D.
        sigma_w: the weight scale (the closed form scales as σ_w⁴); kinds: ``"ntk"``, ``"nngp"``.
        n_boot, seed: the bootstrap of the slopes.
        planted_error: relative error planted in the closed form (power tests).

    Returns:
        ``ReluCircleSpectra``.

    Raises:
        ValueError: no L = 2 or no bias-free case, bad frequencies, or as
            ``analytic_circle_spectra`` / ``relu_circle_fft_coefficients``.
    """
    depths, sigma_bs = tuple(depths), tuple(sigma_bs)
    if 2 not in depths or None not in sigma_bs:
        raise ValueError(f"depths must include 2 and sigma_bs None, got {depths}, {sigma_bs}")
    ks = [np.asarray(k, dtype=np.int64) for k in (fit_k, closed_k, odd_k)]
    if any(k.ndim != 1 or k.size == 0 or k.min() < 0 or k.max() > samples // 2 for k in ks):
        raise ValueError(f"frequencies must be non-empty 1-D in [0, samples/2], got {ks}")
    fit_k, closed_k, odd_k = ks
    spectra, bounds = analytic_circle_spectra(samples, depths=depths, sigma_bs=sigma_bs,
                                              kinds=kinds, activation="relu", sigma_w=sigma_w)
    from .stats import loglog_slope

    fits = {kd: loglog_slope(fit_k, spectra[2, None, kd][fit_k], n_boot=n_boot, seed=seed)
            for kd in kinds}
    closed = {kd: relu_circle_fft_coefficients(closed_k, samples, kd) for kd in kinds}
    parity = {key: float(np.abs(s[odd_k]).max() / np.abs(s[2])) for key, s in spectra.items()}
    return ReluCircleSpectra(spectra, bounds, fits, closed, parity, closed_k, odd_k,
                             float(sigma_w), float(planted_error))


def circle_spectrum_claims(claims, sp: ReluCircleSpectra, exponents, *,
                           paper: str = "Bietti & Mairal 2019"):
    """The five deterministic (α = 0) spectrum claims of notebook 03, in this order:

    * closed form: ``sp.deviation(1.0) < 1`` (``less_than`` with ``prediction=sp.deviation``);
    * per kind in ``exponents`` (``{kind: (exponent, tol)}``): the slope at L = 2 without bias
      within ``tol`` of exponent · (1 + planted_error);
    * parity at L = 2 (NTK): without bias max odd |μ̂_k|/μ̂_2 below the error bound over μ̂_2,
      with the (first) bias above it (Basri et al. 2019), resolution that bound.

    Returns:
        The list of recorded ``Claim``.

    Raises:
        ValueError: a kind of ``exponents`` without a fit, or no biased spectrum at L = 2.
    """
    if set(exponents) - set(sp.fits):
        raise ValueError(f"exponents must name fitted kinds {list(sp.fits)}, got {list(exponents)}")
    biased = [b for (L, b, kd) in sp.spectra if L == 2 and kd == "ntk" and b is not None]
    if not biased:
        raise ValueError("sp must hold the NTK spectrum at L = 2 with a bias")
    out = [claims.less_than("two-layer relu μ_k = closed form (max deviation / error bound)",
                            f"arc-cosine kernels; {paper}", sp.deviation(1.0), 1.0, digits=1,
                            prediction=sp.deviation, alpha=0.0)]
    for kind, (exponent, tol) in exponents.items():
        out.append(claims.within(
            f"relu {kind.upper()} spectrum on the circle, L=2, no bias: decay slope", paper,
            sp.fits[kind].slope, exponent * (1 + sp.planted_error), tol, digits=4, alpha=0.0))
    for b, name, source, want in ((None, "odd coefficients k ≥ 3 vanish without bias", paper, "<"),
                                  (biased[0], "a bias removes them, β>0", "Basri et al. 2019", ">")):
        m, pb = sp.parity[2, b, "ntk"], sp.parity_bound((2, b, "ntk"))
        out.append(claims.check(f"{name} (max odd |μ_k|/μ_2)", source,
                                m < pb if want == "<" else m > pb, m,
                                f"{want} {pb:.1e} (error bound)", digits=2, resolution=pb,
                                resolution_kind="bound", alpha=0.0))
    return out


__all__ += ["certificate_summary", "certificate_report", "polynomial_ranks", "rank_claim",
            "ReluCircleSpectra", "relu_circle_spectra", "circle_spectrum_claims"]
