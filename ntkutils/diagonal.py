"""Diagonal linear networks and their implicit bias (Woodworth et al. 2020).

The model is β = w₊² − w₋² (elementwise), f(x) = ⟨β, x⟩, with the initialisation
w₊ = w₋ = α·1 (so β₀ = 0), trained by gradient descent on L = ½·mean_n (⟨β, x_n⟩ − y_n)².
Woodworth, Gunasekar, Lee, Moroshko, Savarese, Golan, Soudry & Srebro, *Kernel and Rich Regimes
in Overparametrized Models*, COLT 2020 (arXiv:2002.09277), Theorem 1: gradient flow converges
to

    β_α = argmin Q_α(β)  subject to  Xβ = y,   Q_α(β) = α² Σᵢ q(βᵢ/α²),
    q(z) = ∫₀^z arcsinh(u/2) du = 2 − √(4 + z²) + z·arcsinh(z/2).

As α → 0, Q_α/(α² log(1/α²)) → ‖β‖₁ (the minimum-ℓ1 interpolant, the "rich" regime); as
α → ∞, Q_α ≈ ‖β‖₂²/(4α²) (the minimum-ℓ2 interpolant, the kernel regime with tangent kernel
8α²⟨x, x′⟩).

Everything here is NumPy float64 (d and N are small); the solvers use SciPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

from ._progress import progress_bar
from ._validation import finite_float, positive_float, positive_int

__all__ = ["DiagonalPath", "SparseRegression", "diagonal_net_gd", "implicit_bias_solution",
           "min_l1_interpolant", "min_l2_interpolant", "q_alpha", "sparse_regression"]


@dataclass(frozen=True)
class SparseRegression:
    """An underdetermined sparse linear regression problem with Gaussian inputs.

    Attributes:
        x: (N, d) float64 design, entries i.i.d. N(0, 1).
        y: (N,) float64 targets ⟨β*, x_n⟩ + noise·ε_n.
        beta_star: (d,) float64 teacher, ``k`` entries equal to 1/√k, the rest 0.
        noise: standard deviation of the label noise.
    """

    x: np.ndarray
    y: np.ndarray
    beta_star: np.ndarray
    noise: float

    def population_error(self, beta: np.ndarray) -> np.ndarray:
        """E(⟨β, x⟩ − y)² for a fresh x ~ N(0, I_d): ‖β − β*‖² + noise², over the last axis."""
        beta = np.asarray(beta, dtype=np.float64)
        return np.sum((beta - self.beta_star) ** 2, axis=-1) + self.noise ** 2


def sparse_regression(d: int, n: int, k: int, *, noise: float, seed: int) -> SparseRegression:
    """Draw Woodworth et al.'s problem: x ~ N(0, I_d), a k-sparse teacher with entries 1/√k.

    Args:
        d: input dimension (> n for an underdetermined problem).
        n: number of training points N.
        k: number of non-zero teacher coefficients, 1 ≤ k ≤ d.
        noise: standard deviation of the Gaussian label noise, ≥ 0 (the paper: variance 0.01).
        seed: seed of the NumPy generator.

    Returns:
        A ``SparseRegression``; the support of β* is a random set of k coordinates.

    Raises:
        ValueError: on a non-positive d, n, k, k > d, or a negative noise.
    """
    d, n, k = positive_int("d", d), positive_int("n", n), positive_int("k", k)
    if k > d:
        raise ValueError(f"k must be at most d = {d}, got {k}")
    noise = finite_float("noise", noise, minimum=0.0)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    beta_star = np.zeros(d)
    beta_star[rng.choice(d, size=k, replace=False)] = 1.0 / np.sqrt(k)
    y = x @ beta_star + noise * rng.standard_normal(n)
    return SparseRegression(x, y, beta_star, noise)


def q_alpha(beta, alpha: float) -> np.ndarray:
    """Q_α(β) = α² Σᵢ q(βᵢ/α²), q(z) = 2 − √(4 + z²) + z·arcsinh(z/2) (Woodworth et al., Thm 1).

    Args:
        beta: (..., d) array.
        alpha: the initial scale α > 0.

    Returns:
        (...,) float64 array. q is written as z·arcsinh(z/2) − z²/(2 + √(4 + z²)) so that small
        z (large α) loses no digits.
    """
    alpha = positive_float("alpha", alpha)
    z = np.asarray(beta, dtype=np.float64) / alpha ** 2
    q = z * np.arcsinh(z / 2) - z ** 2 / (2 + np.sqrt(4 + z ** 2))
    return alpha ** 2 * np.sum(q, axis=-1)


def implicit_bias_solution(x, y, alpha: float, *, rtol: float = 1e-12, max_iter: int = 500) -> np.ndarray:
    """argmin Q_α(β) subject to Xβ = y, through its dual.

    The Lagrangian's stationarity gives βᵢ = 2α² sinh((Xᵀν)ᵢ); ν maximises the smooth concave
    dual D(ν) = νᵀy − 2α² Σᵢ (cosh((Xᵀν)ᵢ) − 1) (the convex conjugate of Q_α is
    2α²(cosh s − 1)). Damped Newton steps on D, with its exact gradient y − Xβ(ν) and Hessian
    −2α² X diag(cosh Xᵀν) Xᵀ (solved by Cholesky, ``scipy.linalg.cho_solve``), and an Armijo
    backtracking line search, from ν = 0. The unit tests compare it with SciPy's SLSQP on the
    primal problem and with a brute-force search.

    Args:
        x: (N, d) design of full row rank N.
        y: (N,) targets.
        alpha: initial scale α > 0.
        rtol: stop when ‖Xβ − y‖∞ ≤ rtol·max(1, ‖y‖∞).
        max_iter: at most this many Newton steps.

    Returns:
        (d,) float64 β_α.

    Raises:
        ValueError: bad α; RuntimeError if Newton's method does not reach ``rtol``.
    """
    alpha = positive_float("alpha", alpha)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    a2 = alpha ** 2
    tol = rtol * max(1.0, float(np.max(np.abs(y))))

    def dual(nu):
        with np.errstate(over="ignore"):
            return nu @ y - 4 * a2 * np.sum(np.sinh(x.T @ nu / 2) ** 2)    # cosh s − 1 = 2 sinh²(s/2)

    nu = np.zeros(x.shape[0])
    for _ in range(positive_int("max_iter", max_iter)):
        s = x.T @ nu
        grad = y - x @ (2 * a2 * np.sinh(s))
        if np.max(np.abs(grad)) <= tol:
            return 2 * a2 * np.sinh(s)
        hess = 2 * a2 * (x * np.cosh(s)) @ x.T
        direction = linalg.cho_solve(linalg.cho_factor(hess), grad)
        t, d0, slope = 1.0, dual(nu), grad @ direction
        # Armijo; within rounding of D (close to the optimum) the full Newton step is taken.
        while not dual(nu + t * direction) >= d0 + 0.25 * t * slope - 1e-13 * abs(d0) and t > 1e-12:
            t /= 2
        nu = nu + t * direction
    raise RuntimeError(f"implicit_bias_solution: Newton's method did not converge for alpha={alpha} "
                       f"(residual {np.max(np.abs(grad)):.2e} after {max_iter} steps)")


def min_l1_interpolant(x, y) -> np.ndarray:
    """argmin ‖β‖₁ subject to Xβ = y, as a linear program (β = p − m, p, m ≥ 0; SciPy HiGHS).

    Args:
        x: (N, d) design; y: (N,) targets.

    Returns:
        (d,) float64 β.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    d = x.shape[1]
    res = optimize.linprog(np.ones(2 * d), A_eq=np.hstack([x, -x]), b_eq=y, bounds=(0, None), method="highs")
    if res.status != 0:
        raise RuntimeError(f"min_l1_interpolant: linear program failed ({res.message})")
    return res.x[:d] - res.x[d:]


def min_l2_interpolant(x, y) -> np.ndarray:
    """argmin ‖β‖₂ subject to Xβ = y: Xᵀ(XXᵀ)⁻¹y (least squares, minimum norm).

    Args:
        x: (N, d) design; y: (N,) targets.

    Returns:
        (d,) float64 β.
    """
    return np.linalg.lstsq(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), rcond=None)[0]


@dataclass(frozen=True)
class DiagonalPath:
    """Diagonal networks trained by gradient descent, one per (problem, α).

    Attributes:
        alphas: (A,) initial scales.
        beta: (P, A, d) trained β = w₊² − w₋².
        steps: (P, A) steps taken until ‖Xβ − y‖/‖y‖ ≤ rtol (or ``max_steps``).
        converged: (P, A) bool, the residual reached ``rtol``.
        relative_residual: (P, A) final ‖Xβ − y‖/‖y‖.
        alpha_drift: (P, A) max over i of |log(w₊ᵢw₋ᵢ/α²)|. Under gradient flow w₊ᵢw₋ᵢ = α² is
            conserved; each GD step multiplies it by 1 − 4η²gᵢ², so GD ends at the minimiser of
            Q with per-coordinate scales α̃ᵢ² = w₊ᵢw₋ᵢ (Even et al. 2023). This is the
            discretisation error, in units of log α².
    """

    alphas: np.ndarray
    beta: np.ndarray
    steps: np.ndarray
    converged: np.ndarray
    relative_residual: np.ndarray
    alpha_drift: np.ndarray


def diagonal_net_gd(x, y, alphas, *, eta: float = 0.5, max_step: float = 1e-2, rtol: float = 1e-4,
                    max_steps: int = 1_000_000, check_every: int = 200) -> DiagonalPath:
    """Train diagonal linear networks β = w₊² − w₋² from w₊ = w₋ = α·1 by gradient descent.

    Loss L(w) = ½·mean_n (⟨w₊² − w₋², x_n⟩ − y_n)², gradient g = Xᵀ(Xβ − y)/N with respect to
    β, so w₊ ← w₊(1 − 2ηg), w₋ ← w₋(1 + 2ηg). The step of each network adapts to stay small:
    η_k = min(eta / (4 λ_max(XᵀX/N) maxᵢ(w₊ᵢ² + w₋ᵢ²)), max_step / (2 maxᵢ|gᵢ|)); the first
    term is ``eta`` times the inverse of a bound on the curvature of L along w (stable for eta < 2), the
    second keeps each multiplicative update within 1 ± max_step, which bounds the drift of the
    implicit bias (``DiagonalPath.alpha_drift``). All networks of one problem step together.

    Args:
        x: (N, d) or (P, N, d) designs (P problems).
        y: (N,) or (P, N) targets.
        alphas: (A,) positive initial scales α.
        eta: step relative to the curvature bound, in (0, 1].
        max_step: largest relative change of a weight in one step, in (0, 0.5].
        rtol: stop a network when ‖Xβ − y‖/‖y‖ ≤ rtol.
        max_steps: at most this many steps.
        check_every: test the residual every this many steps.

    Returns:
        A ``DiagonalPath`` (with P = 1 for a single problem).

    Raises:
        ValueError: bad shapes or arguments, or non-finite weights (naming the step).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim == 2:
        x, y = x[None], y[None]
    if x.ndim != 3 or y.shape != x.shape[:2]:
        raise ValueError(f"x must be (N, d) or (P, N, d) and y (N,) or (P, N), got {x.shape} and {y.shape}")
    alphas = np.asarray(alphas, dtype=np.float64).reshape(-1)
    if alphas.size == 0 or not np.all(np.isfinite(alphas) & (alphas > 0)):
        raise ValueError(f"alphas must be positive and finite, got {alphas!r}")
    eta = finite_float("eta", eta, strictly_positive=True)
    max_step = finite_float("max_step", max_step, strictly_positive=True)
    if eta > 1 or max_step > 0.5:
        raise ValueError(f"eta must be in (0, 1] and max_step in (0, 0.5], got eta={eta}, max_step={max_step}")
    rtol = positive_float("rtol", rtol)
    max_steps, check_every = positive_int("max_steps", max_steps), positive_int("check_every", check_every)
    p, n, d = x.shape
    a = alphas.size
    lam = np.linalg.eigvalsh(np.einsum("pnd,pne->pde", x, x) / n)[:, -1]       # (P,)
    u = np.broadcast_to(alphas[None, :, None], (p, a, d)).copy()
    v = u.copy()
    y_norm = np.linalg.norm(y, axis=1)[:, None]
    active = np.ones((p, a), dtype=bool)
    steps = np.full((p, a), max_steps)
    rel = np.full((p, a), np.inf)
    for step in progress_bar(range(max_steps + 1), desc="diagonal nets", total=max_steps + 1):
        beta = u * u - v * v
        r = np.einsum("pnd,pad->pan", x, beta) - y[:, None, :]
        if step % check_every == 0 or step == max_steps:
            if not np.all(np.isfinite(beta)):
                raise ValueError(f"diagonal_net_gd: non-finite weights at step {step}")
            rel = np.linalg.norm(r, axis=2) / y_norm
            done = active & (rel <= rtol)
            steps[done] = step
            active &= ~done
            if not active.any() or step == max_steps:
                break
        g = np.einsum("pan,pnd->pad", r, x) / n
        curvature = 4 * lam[:, None] * np.max(u * u + v * v, axis=2)
        size = np.minimum(eta / curvature, max_step / (2 * np.max(np.abs(g), axis=2) + 1e-300))
        size = np.where(active, size, 0.0)[:, :, None]
        u, v = u * (1 - 2 * size * g), v * (1 + 2 * size * g)
    drift = np.max(np.abs(np.log(u * v / alphas[None, :, None] ** 2)), axis=2)
    return DiagonalPath(alphas, u * u - v * v, steps, rel <= rtol, rel, drift)
