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

__all__ = ["EPS", "ROUNDING", "Certificate", "angle_error", "certify", "circle_spectrum",
           "circle_spectrum_error", "correlation_error", "entrywise_error", "harmonic_dimension",
           "kernel_error_bound", "relu_circle_coefficients",
           "kernel_circle_spectrum", "relu_circle_fft_coefficients"]

EPS = float(np.finfo(np.float64).eps)
ROUNDING = 32           # r in (1): roundings per layer and entry, in units of ε
_GRID = 1024           # angle cells of the Lipschitz profile on [0, π]
KernelFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def correlation_error(n0: int, depth: int) -> float:
    """δρ = (n0 + 4L)·ε: bound on the absolute error of a computed correlation (see module)."""
    return (check.positive_int("n0", n0) + 4 * check.positive_int("depth", depth)) * EPS


def angle_error(rho, delta: float) -> np.ndarray:
    """Bound on |arccos ρ − arccos ρ̂| for |ρ − ρ̂| ≤ ``delta``, elementwise in ρ̂ (``rho``)."""
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
    """Bound (1) on |Θ̂ − Θ| entry by entry, shape (N, M) float64.

    k: the computed kernel, (N, M); x1 (N, n0), x2 (M, n0) (None: x1) its inputs;
    kernel_fn(a, b) -> (len(a), len(b)) tensor: the same kernel (architecture fixed), used for
    the Lipschitz profile in the angle, once per pair of distinct input norms (norms equal to
    1e−9 relative count as one); depth: L. Needs n0 ≥ 2.
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
    """B = ‖E‖_F + N·ε·‖Θ̂‖₂: bound on the error of every computed eigenvalue of the symmetric
    Gram matrix ``k`` (N, N) of inputs ``x`` (N, n0), with E from ``entrywise_error``."""
    e = entrywise_error(k, x, kernel_fn=kernel_fn, depth=depth, rounding=rounding)
    kk = _rows(k)
    return float(np.linalg.norm(e) + len(kk) * EPS * np.linalg.norm(kk, 2))


@dataclass(frozen=True)
class Certificate:
    """λ_min of a Gram matrix against an eigenvalue error bound.

    eigenvalues: ascending (N,); bound: B; status of λ_min: "positive" (λ̂_min > B), "zero"
    (|λ̂_min| ≤ B) or "undecided" (λ̂_min < −B); rank: eigenvalues > B; undecided: count < −B.
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
    """Apply the one rule to the symmetric Gram matrix ``k`` (N, N) with error bound ``bound``."""
    bound = check.finite_float("bound", bound, minimum=0.0)
    e = np.linalg.eigvalsh(_rows(k))
    lo = e[0]
    status = "positive" if lo > bound else ("zero" if abs(lo) <= bound else "undecided")
    return Certificate(e, bound, status, int((e > bound).sum()), int((e < -bound).sum()))


def harmonic_dimension(n0: int, degree: int) -> int:
    """Σ_{k≤D} N(n0, k): the dimension of the polynomials of degree ≤ D on S^{n0−1}, with
    N(n0, k) = C(k+n0−1, n0−1) − C(k+n0−3, n0−1) spherical harmonics of degree k
    (2D+1 on the circle, (D+1)² on S²)."""
    n0, degree = check.positive_int("n0", n0), check.nonnegative_int("degree", degree)
    return sum(math.comb(k + n0 - 1, n0 - 1) - (math.comb(k + n0 - 3, n0 - 1) if k >= 2 else 0)
               for k in range(degree + 1))


def circle_spectrum(values) -> np.ndarray:
    """μ_k, k = 0…M/2: Fourier coefficients of γ ↦ κ(cos γ) sampled at γ_j = 2πj/M,
    μ_k = (1/M) Σ_j κ_j cos(kγ_j) (the eigenvalues of the circulant Gram matrix on those M
    points, divided by M; each 0 < k < M/2 is a double eigenvalue)."""
    f = _rows(values).reshape(-1)
    return np.fft.rfft(f).real / len(f)


def circle_spectrum_error(values, entry_error) -> float:
    """Bound on max_k |Δμ_k| of ``circle_spectrum``: the kernel errors averaged, (1/M)Σ_j |E_j|,
    plus the FFT's round-off, 5·log₂M·ε·max|κ_j|."""
    f, e = _rows(values).reshape(-1), _rows(entry_error).reshape(-1)
    return float(e.mean() + 5 * math.log2(len(f)) * EPS * np.abs(f).max())


def relu_circle_coefficients(k, kind: str = "ntk") -> np.ndarray:
    """Exact μ_k of the two-layer relu kernels on the circle (σ_w = 1, no bias, n0 = 2), for
    integer k ≥ 2: Θ = (sin γ + 2(π−γ)cos γ)/(4π) and Σ = (sin γ + (π−γ)cos γ)/(4π) give
    NTK μ_k = (k²+3)/(2π²(k²−1)²), NNGP μ_k = 1/(π²(k²−1)²) for even k, 0 for odd k
    (Cho & Saul 2009 arc-cosine kernels; the k^−2, k^−4 laws of Bietti & Mairal 2019)."""
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
    """What an M-point FFT (``samples`` = M, even) of the two-layer relu kernel returns at
    frequency k ≥ 2 in exact arithmetic: the aliased sum Σ_{|j|≤J} μ_{|k+jM|} of
    ``relu_circle_coefficients`` (J = ``terms``). Returns (coefficients, tail) where ``tail``
    bounds the omitted |j| > J terms for k < M/2, from μ_m ≤ 1/(π²m²) (NTK, m ≥ 3) and
    μ_m ≤ 2/(π²m⁴) (NNGP) with jM − k ≥ (j − 1)M: 2/(π²M²(J − 1)), resp. 4/(3π²M⁴(J − 1)³)."""
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
    """μ_k (``circle_spectrum``) of the kernel row κ(x_0, x_j) on ``samples`` = M points
    x_j = (cos 2πj/M, sin 2πj/M), and the bound on their error (``circle_spectrum_error`` of
    the entry errors (1)). ``kernel_fn(a, b)``: the kernel of depth ``depth`` (n0 = 2)."""
    samples = check.positive_int("samples", samples)
    gamma = 2 * math.pi * torch.arange(samples, dtype=torch.float64) / samples
    x = torch.stack([torch.cos(gamma), torch.sin(gamma)], dim=1)
    row = kernel_fn(x[:1], x)
    error = entrywise_error(row, x[:1], x, kernel_fn=kernel_fn, depth=depth, rounding=rounding)
    return circle_spectrum(row), circle_spectrum_error(row, error)
