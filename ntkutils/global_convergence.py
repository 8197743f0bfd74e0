"""Notebook 10: global convergence of gradient descent on a wide two-layer relu network.

Du, Zhai, Poczos & Singh, *Gradient Descent Provably Optimizes Over-parameterized Neural
Networks*, ICLR 2019 (arXiv:1810.02054; theorem numbers of the ICLR version). The network,
the Gram matrices H(k), H∞ and the training are those of ``two_layer_relu``. Two studies:

* ``convergence_study``: N points uniform on the sphere, random ±1 labels, widths m on a grid, S
  seeds: the loss against the rate (1 − ηλ₀/2)^k of Theorem 4.1, λ_min(H(k)) against λ₀/2
  (Lemma 3.2), and the m^(−1/2) shrinkage of the activation flips, the weight movement
  (Lemma 3.3, Corollary 4.1) and ‖H(0) − H∞‖₂ (Lemma 3.1, Remark 3.1);
* ``pair_separation_study``: λ₀ set by one close pair of inputs at angle θ with opposite labels;
  the smallest grid width m* at which every seed keeps λ_min(H(k)) ≥ λ₀/2 and the loss under
  (1 − ηλ₀/2)^k, beside the theorem's sufficient width N⁶/(λ₀⁴δ³), and the exponent γ of
  m* ∝ λ₀^(−γ).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from . import _validation as check
from .data import sphere_uniform
from .plotting import legend_outside, new_figure, width_ticks
from .stats import SlopeFit, loglog_slope_t
from .two_layer_relu import relu_gram, relu_nets, train_relu_nets

__all__ = ["ConvergenceStudy", "PairSeparationStudy", "add_claims", "close_pair_data", "convergence_study",
           "exponent_range", "figure_convergence", "figure_width_needed", "metrics", "pair_separation_study",
           "random_labels", "rate_factors", "sufficient_width"]

DU = "Du et al. 2019"


# ---------------------------------------------------------------- data and statistics

def random_labels(n: int, *, seed: int) -> torch.Tensor:
    """n labels uniform on {−1, +1}, float64 (Du et al. §5 use Gaussian labels; |y_i| ≤ C)."""
    g = torch.Generator().manual_seed(check.nonnegative_int("seed", seed))
    return (torch.randint(0, 2, (check.positive_int("n", n),), generator=g) * 2 - 1).to(torch.float64)


def close_pair_data(n: int, dim: int, angle: float, *, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n − 1 points uniform on S^(dim−1) and, as the last point, a partner of the first one at
    ``angle`` (radians) in a random direction; labels random ±1 except that the pair's are
    opposite. For a small angle θ the pair sets λ₀ = λ_min(H∞) ≈ θ/(2π) (the 2×2 block
    [[1/2, h], [h, 1/2]] with h = cos θ (π − θ)/(2π)) and the residual on its eigenvector is large.

    Returns:
        x (n, dim) on the unit sphere, y (n,), float64.
    """
    n = check.int_in_range("n", n, 2)
    angle = check.positive_float("angle", angle)
    x = sphere_uniform(n, dim, seed=seed)
    g = torch.Generator().manual_seed(check.nonnegative_int("seed", seed) + 1)
    v = torch.randn(dim, generator=g, dtype=torch.float64)
    v = v - (v @ x[0]) * x[0]
    x[-1] = math.cos(angle) * x[0] + math.sin(angle) * v / v.norm()
    y = random_labels(n, seed=seed + 2)
    y[-1] = -y[0]
    return x, y


def rate_factors(loss: torch.Tensor | np.ndarray, eta_lambda0: float) -> np.ndarray:
    """The largest c with Φ(k) ≤ (1 − c·ηλ₀)^k Φ(0) for every recorded k ≥ 1 (Theorem 4.1 has
    c = 1/2): min_k (1 − (Φ(k)/Φ(0))^(1/k)) / (ηλ₀). ``loss`` (..., K+1) → (...)."""
    loss = np.asarray(loss, dtype=np.float64)
    k = np.arange(1, loss.shape[-1], dtype=np.float64)
    ratio = np.clip(loss[..., 1:] / loss[..., :1], 0.0, None)
    return ((1.0 - ratio ** (1.0 / k)) / eta_lambda0).min(-1)


def sufficient_width(n: int, lambda0: Any, delta: float) -> np.ndarray:
    """Theorem 4.1's width n⁶/(λ₀⁴δ³), constants dropped (the theorem states m = Ω(·))."""
    return n ** 6 / (np.asarray(lambda0, dtype=np.float64) ** 4 * delta ** 3)


def exponent_range(lambda0: Any, low: Any, high: Any, *, grid: np.ndarray | None = None) -> tuple[float, float]:
    """The exponents γ for which some C puts C·λ₀^(−γ) inside every bracket (low_j, high_j].

    m* is found on a grid, so the width at which the property sets in lies in (previous grid
    width, m*]; a width not found on the grid is the bracket (largest width, ∞). γ is scanned
    on ``grid`` (default 0…12 in steps of 10⁻³).

    Returns:
        (γ_low, γ_high), NaN if no power law passes through all brackets.
    """
    lam = np.log(np.asarray(lambda0, dtype=np.float64))
    lo, hi = np.log(np.asarray(low, dtype=np.float64)), np.log(np.asarray(high, dtype=np.float64))
    g = np.arange(0.0, 12.0005, 1e-3) if grid is None else np.asarray(grid, dtype=np.float64)
    # log C = log m + γ log λ₀ must lie in (lo_j + γ ℓ_j, hi_j + γ ℓ_j] for every j
    ok = (lo[None, :] + g[:, None] * lam[None, :]).max(1) < (hi[None, :] + g[:, None] * lam[None, :]).min(1)
    return (float(g[ok].min()), float(g[ok].max())) if ok.any() else (math.nan, math.nan)


# ---------------------------------------------------------------- 1. widths

@dataclass(frozen=True)
class ConvergenceStudy:
    """S networks per width trained by GD on one data set; arrays indexed (width, seed, …).

    Attributes:
        widths: (W,) m.
        lambda0, lambda_max: extreme eigenvalues of H∞ on the training inputs.
        eta: the step (``eta_scale``/λ_max(H∞)).
        record_steps: (R,) steps at which λ_min(H), flips and weight changes were recorded.
        loss: (W, S, K+1) Φ(k) = ½‖u(k) − y‖².
        lambda_min: (W, S, R) λ_min(H(k)).
        flipped: (W, S, R) fraction of (i, r) whose activation differs from that at k = 0,
            at some step so far.
        max_weight_change: (W, S, R) max_r ‖w_r(k) − w_r(0)‖.
        rms_weight_change: (W, S) (mean_r ‖w_r(K) − w_r(0)‖²)^(1/2) at the end.
        gram_error: (W, S) ‖H(0) − H∞‖₂ (operator norm).
        fit_from: the slope fits use widths ≥ fit_from.
    """

    widths: np.ndarray
    lambda0: float
    lambda_max: float
    eta: float
    record_steps: np.ndarray
    loss: np.ndarray
    lambda_min: np.ndarray
    flipped: np.ndarray
    max_weight_change: np.ndarray
    rms_weight_change: np.ndarray
    gram_error: np.ndarray
    fit_from: int

    QUANTITIES = ("flipped", "max_weight_change", "rms_weight_change", "gram_error")

    def final(self, quantity: str) -> np.ndarray:
        """(W, S) ``quantity`` at the end of training (flips and weight changes) or at k = 0."""
        value = getattr(self, quantity)
        return value[..., -1] if value.ndim == 3 else value

    def rate_factors(self) -> np.ndarray:
        """(W, S) the largest c with Φ(k) ≤ (1 − cηλ₀)^k Φ(0) for all k (``rate_factors``)."""
        return rate_factors(self.loss, self.eta * self.lambda0)

    def lambda_ratio(self) -> np.ndarray:
        """(W, S) min_k λ_min(H(k)) / λ₀."""
        return self.lambda_min.min(-1) / self.lambda0

    def fit(self, quantity: str, *, ci: float = 0.99) -> SlopeFit:
        """Log-log slope of the seed means of ``quantity`` over widths ≥ fit_from, with a
        Student-t interval over seeds (``loglog_slope_t``)."""
        keep = self.widths >= self.fit_from
        return loglog_slope_t(self.widths[keep], self.final(quantity)[keep], ci=ci)

    def __str__(self) -> str:
        """Per width: seed means of the end-of-training quantities, the rate factor and λ ratio."""
        lines = [f"lambda0 = {self.lambda0:.4f}, lambda_max = {self.lambda_max:.3f}, eta = {self.eta:.4f}, "
                 f"eta*lambda0 = {self.eta * self.lambda0:.4f}, steps = {self.loss.shape[-1] - 1}",
                 "width   loss(K)/loss(0)  rate factor c (min)  min lambda_min(H)/lambda0  flipped   "
                 "max|w_r-w_r(0)|  rms|w_r-w_r(0)|  |H(0)-Hinf|"]
        rel = self.loss[..., -1] / self.loss[..., 0]
        for i, m in enumerate(self.widths):
            lines.append(f"{m:6d}  {rel[i].mean():15.2e}  {self.rate_factors()[i].min():19.2f}  "
                         f"{self.lambda_ratio()[i].min():25.3f}  {self.final('flipped')[i].mean():8.4f}  "
                         f"{self.final('max_weight_change')[i].mean():15.3f}  {self.rms_weight_change[i].mean():15.4f}  "
                         f"{self.gram_error[i].mean():11.4f}")
        return "\n".join(lines)

    def fits_text(self, *, ci: float = 0.99) -> str:
        """The slope of each quantity against m (widths ≥ fit_from), with its interval."""
        return "\n".join(f"{q}: slope {f.slope:.3f} [{f.ci_low:.3f}, {f.ci_high:.3f}]"
                         for q in self.QUANTITIES for f in [self.fit(q, ci=ci)])

    def metrics(self) -> dict[str, Any]:
        return {"widths": self.widths, "lambda0": self.lambda0, "lambda_max": self.lambda_max, "eta": self.eta,
                "steps": self.loss.shape[-1] - 1, "fit_from": self.fit_from,
                "relative_final_loss": self.loss[..., -1] / self.loss[..., 0], "rate_factor": self.rate_factors(),
                "lambda_ratio": self.lambda_ratio(), **{q: self.final(q) for q in self.QUANTITIES},
                **{f"{q}_slope": self.fit(q) for q in self.QUANTITIES}}


def convergence_study(x: torch.Tensor, y: torch.Tensor, widths: Sequence[int], *, n_seeds: int, steps: int, seed: int,
                      eta_scale: float = 1.0, record_every: int = 10, fit_from: int | None = None) -> ConvergenceStudy:
    """Train ``n_seeds`` networks (w_r ~ N(0, I), a_r = ±1, Du et al. §3) of every width on (x, y).

    Args:
        x: (N, d) inputs on the unit sphere; y: (N,) labels.
        widths: increasing widths m.
        n_seeds: networks per width; seed: width m uses ``seed + m``.
        steps: GD steps K; record_every: recording interval of λ_min(H), flips, movement.
        eta_scale: η = eta_scale / λ_max(H∞) (below the stability bound 2/λ_max).
        fit_from: smallest width of the slope fits (default: the third width).

    Returns:
        ``ConvergenceStudy``.
    """
    widths_a = np.asarray([check.positive_int("widths", m) for m in widths])
    if widths_a.size < 3 or np.any(np.diff(widths_a) <= 0):
        raise ValueError(f"widths must be at least three increasing integers, got {list(widths)}")
    h_inf = relu_gram(x)
    ev = torch.linalg.eigvalsh(h_inf)
    lam0, lmax = float(ev[0]), float(ev[-1])
    eta = check.positive_float("eta_scale", eta_scale) / lmax
    out: dict[str, list] = {k: [] for k in ("loss", "lambda_min", "flipped", "max_weight_change", "rms", "gram")}
    for m in widths_a:
        nets = relu_nets(n_seeds, int(m), x.shape[1], seed=seed + int(m))
        run = train_relu_nets(nets, x, y, steps=steps, eta=eta, record_every=record_every)
        out["loss"].append(run.loss.numpy())
        out["lambda_min"].append(run.lambda_min.numpy())
        out["flipped"].append(run.flipped.numpy())
        out["max_weight_change"].append(run.max_weight_change.numpy())
        out["rms"].append(((run.nets.w - nets.w) ** 2).sum(2).mean(1).sqrt().numpy())
        out["gram"].append(torch.linalg.matrix_norm(run.gram_init - h_inf, ord=2).numpy())
        steps_rec = run.record_steps.numpy()
    return ConvergenceStudy(widths_a, lam0, lmax, eta, steps_rec, *(np.stack(out[k]) for k in out),
                            fit_from=int(widths_a[2] if fit_from is None else fit_from))


def figure_convergence(study: ConvergenceStudy) -> Any:
    """(a) Φ(k)/Φ(0) per width (seed median) beside Theorem 4.1's (1 − ηλ₀/2)^k; (b) λ_min(H(k))/λ₀
    (seed minimum) beside 1/2; (c) flips, weight movement and ‖H(0) − H∞‖₂ against m, with m^(−1/2)."""
    fig, (ax, bx, cx) = new_figure(1, 3, figsize=(14.0, 3.8))
    k = np.arange(study.loss.shape[-1])
    for i, m in enumerate(study.widths):
        ax.semilogy(k, np.median(study.loss[i] / study.loss[i, :, :1], 0), color=f"C{i % 10}", lw=1, label=f"m = {m}")
        bx.plot(study.record_steps, study.lambda_min[i].min(0) / study.lambda0, color=f"C{i % 10}", lw=1)
    ax.semilogy(k, (1 - study.eta * study.lambda0 / 2) ** k, "k--", lw=1.2, label=r"$(1-\eta\lambda_0/2)^k$")
    ax.set(xlabel="GD step k", ylabel=r"$\Phi(k)/\Phi(0)$", title="(a) loss against Theorem 4.1")
    bx.axhline(0.5, color="k", ls="--", lw=1)
    bx.set(xlabel="GD step k", ylabel=r"$\min_{\rm seeds}\lambda_{\min}(H(k))/\lambda_0$", title="(b) Gram matrix stays PD")
    labels = {"flipped": "flipped patterns", "max_weight_change": r"$\max_r\|w_r-w_r(0)\|$",
              "rms_weight_change": r"rms$_r\|w_r-w_r(0)\|$", "gram_error": r"$\|H(0)-H^\infty\|_2$"}
    for j, q in enumerate(study.QUANTITIES):
        v = study.final(q)
        cx.errorbar(study.widths, v.mean(1), yerr=v.std(1), fmt="os^v"[j] + "-", ms=4, capsize=2, color=f"C{j}",
                    label=labels[q])
        cx.plot(study.widths, v.mean(1)[-1] * (study.widths / study.widths[-1]) ** -0.5, ":", color=f"C{j}", lw=1)
    cx.plot([], [], "k:", lw=1, label=r"$\propto m^{-1/2}$")
    cx.set(xscale="log", yscale="log", xlabel="width m", title="(c) changes shrink with width")
    width_ticks(cx, study.widths)
    legend_outside(ax, where="below", ncol=3, fontsize=7)
    legend_outside(cx, where="right", fontsize=7)
    return fig


# ---------------------------------------------------------------- 2. how wide is wide enough

@dataclass(frozen=True)
class PairSeparationStudy:
    """The smallest grid width m* that trains in the regime of Theorem 4.1, per pair angle θ.

    Widths are tried in increasing order until every seed passes (λ_min(H(k)) ≥ λ₀/2 at every
    recorded k and Φ(k) ≤ (1 − ηλ₀/2)^k Φ(0) for every k ≤ K) at ``confirm`` consecutive grid
    widths; m* is the first of them, and wider ones are not run.

    Attributes:
        angles: (A,) θ; lambda0: (A,) λ_min(H∞); eta: (A,) 1/λ_max(H∞); steps: (A,) K, chosen
            so that K·ηλ₀ = ``horizon``.
        n_points: N; widths: (W,) the grid.
        lambda_ratio: (A, W) min over seeds and k of λ_min(H(k))/λ₀ (NaN where not run).
        rate: (A, W) min over seeds of the rate factor c (``rate_factors``; NaN where not run).
        m_star: (A,) m* (NaN if no run of ``confirm`` consecutive grid widths passes).
        confirm: the number of consecutive passing widths that defines m*.
        delta: the failure probability δ of the sufficient width.
    """

    angles: np.ndarray
    lambda0: np.ndarray
    eta: np.ndarray
    steps: np.ndarray
    n_points: int
    widths: np.ndarray
    lambda_ratio: np.ndarray
    rate: np.ndarray
    m_star: np.ndarray
    delta: float
    confirm: int = 2

    def brackets(self) -> tuple[np.ndarray, np.ndarray]:
        """((A,), (A,)) the interval (low, high] holding the width where the regime sets in."""
        found = np.isfinite(self.m_star)
        idx = np.array([np.searchsorted(self.widths, m) if f else len(self.widths) for m, f in zip(self.m_star, found)])
        low = np.where(idx > 0, self.widths[np.maximum(idx - 1, 0)], 1.0).astype(np.float64)
        return low, np.where(found, self.m_star, np.inf)

    def bound(self, scale: float = 1.0) -> np.ndarray:
        """(A,) the sufficient width N⁶/(λ₀⁴δ³) times ``scale``."""
        return scale * sufficient_width(self.n_points, self.lambda0, self.delta)

    def looseness_decades(self, scale: float = 1.0) -> np.ndarray:
        """(A,) log10(bound / m*): by how many decades the theorem's width exceeds the one needed."""
        return np.log10(self.bound(scale) / self.m_star)

    def exponent(self) -> tuple[float, float, float]:
        """(midpoint, low, high) of the γ consistent with the brackets (``exponent_range``)."""
        lo, hi = exponent_range(self.lambda0, *self.brackets())
        return (lo + hi) / 2, lo, hi

    def __str__(self) -> str:
        lines = ["theta    lambda0   steps  m*        N^6/(lambda0^4 delta^3)  decades loose   min lambda_min(H)/lambda0 "
                 "and min rate factor per width tried"]
        for a in range(len(self.angles)):
            tried = [f"{m}: {r:.2f}/{c:.2f}" for m, r, c in zip(self.widths, self.lambda_ratio[a], self.rate[a])
                     if np.isfinite(r)]
            lines.append(f"{self.angles[a]:<8.3g} {self.lambda0[a]:<9.4f} {self.steps[a]:<6d} {self.m_star[a]:<9.0f} "
                         f"{self.bound()[a]:<24.2e} {self.looseness_decades()[a]:<15.1f} " + ", ".join(tried))
        mid, lo, hi = self.exponent()
        lines.append(f"m* ∝ lambda0^-gamma: gamma in [{lo:.2f}, {hi:.2f}] (the grid's brackets; delta = {self.delta:g})")
        return "\n".join(lines)

    def metrics(self) -> dict[str, Any]:
        mid, lo, hi = self.exponent()
        return {k: getattr(self, k) for k in ("angles", "lambda0", "eta", "steps", "n_points", "widths",
                                              "lambda_ratio", "rate", "m_star", "delta", "confirm")} | {
            "sufficient_width": self.bound(), "looseness_decades": self.looseness_decades(),
            "exponent": mid, "exponent_low": lo, "exponent_high": hi}


def pair_separation_study(angles: Sequence[float], *, n_points: int, dim: int, widths: Sequence[int], n_seeds: int,
                          seed: int, horizon: float = 6.0, delta: float = 0.1, records: int = 50,
                          confirm: int = 2) -> PairSeparationStudy:
    """For each angle θ (decreasing λ₀), find m* on the grid ``widths`` (``PairSeparationStudy``).

    Args:
        angles: pair angles θ in radians (``close_pair_data``; one data set per θ, seed ``seed``).
        n_points, dim: N and d.
        widths: increasing grid of widths; n_seeds: networks per width (seed ``seed + m``).
        horizon: K = ⌈horizon/(ηλ₀)⌉ steps, η = 1/λ_max(H∞).
        delta: δ of the sufficient width. records: λ_min(H) is recorded about this many times.
        confirm: m* is the first of ``confirm`` consecutive grid widths at which every seed passes
            (at small widths λ_min(H) fluctuates enough for a single width to pass by chance).

    Returns:
        ``PairSeparationStudy``.
    """
    grid = np.asarray([check.positive_int("widths", m) for m in widths])
    if np.any(np.diff(grid) <= 0):
        raise ValueError(f"widths must be increasing, got {list(widths)}")
    angles_a = np.asarray([check.positive_float("angles", a) for a in angles])
    confirm = check.positive_int("confirm", confirm)
    lam0, etas, steps = [], [], []
    ratio = np.full((len(angles_a), len(grid)), np.nan)
    rate = np.full_like(ratio, np.nan)
    m_star = np.full(len(angles_a), np.nan)
    for a, theta in enumerate(angles_a):
        x, y = close_pair_data(n_points, dim, float(theta), seed=seed)
        ev = torch.linalg.eigvalsh(relu_gram(x))
        lam0.append(float(ev[0]))
        etas.append(1.0 / float(ev[-1]))
        steps.append(int(math.ceil(horizon / (etas[-1] * lam0[-1]))))
        passing = 0
        for j, m in enumerate(grid):
            run = train_relu_nets(relu_nets(n_seeds, int(m), dim, seed=seed + int(m)), x, y, steps=steps[-1],
                                  eta=etas[-1], record_every=max(1, steps[-1] // records))
            ratio[a, j] = float(run.lambda_min.min()) / lam0[-1]
            rate[a, j] = float(rate_factors(run.loss, etas[-1] * lam0[-1]).min())
            passing = passing + 1 if ratio[a, j] >= 0.5 and rate[a, j] >= 0.5 else 0
            if passing == confirm:
                m_star[a] = grid[j - confirm + 1]
                break
    return PairSeparationStudy(angles_a, np.array(lam0), np.array(etas), np.array(steps), int(n_points), grid, ratio,
                               rate, m_star, float(delta), confirm)


def figure_width_needed(study: PairSeparationStudy) -> Any:
    """(a) min λ_min(H(k))/λ₀ against width per λ₀; (b) m* against λ₀ beside N⁶/(λ₀⁴δ³) and λ₀^(−2),
    λ₀^(−4) guides through the smallest-λ₀ point."""
    fig, (ax, bx) = new_figure(1, 2, figsize=(11.0, 3.8))
    for a, lam in enumerate(study.lambda0):
        ax.plot(study.widths, study.lambda_ratio[a], "o-", ms=4, color=f"C{a}", label=rf"$\lambda_0$ = {lam:.3g}")
    ax.axhline(0.5, color="k", ls="--", lw=1)
    ax.set(xscale="log", xlabel="width m", ylabel=r"$\min_{k,\rm seeds}\lambda_{\min}(H(k))/\lambda_0$",
           title="(a) Gram matrix during training")
    width_ticks(ax, study.widths)
    low, high = study.brackets()
    found = np.isfinite(high)
    bx.errorbar(study.lambda0[found], high[found], yerr=[high[found] - low[found], 0 * high[found]], fmt="o",
                color="C0", capsize=3, label=r"$m^*$ (bracket on the grid)")
    bx.plot(study.lambda0, study.bound(), "s--", color="C3", ms=4, label=r"$N^6/(\lambda_0^4\delta^3)$")
    if found.any():
        j = np.flatnonzero(found)[np.argmin(study.lambda0[found])]
        lam = np.geomspace(study.lambda0.min(), study.lambda0.max(), 20)
        for gamma, ls in ((2, ":"), (4, "-.")):
            bx.plot(lam, high[j] * (lam / study.lambda0[j]) ** -gamma, ls, color="0.4", lw=1,
                    label=rf"$\propto\lambda_0^{{-{gamma}}}$")
    bx.set(xscale="log", yscale="log", xlabel=r"$\lambda_0=\lambda_{\min}(H^\infty)$", ylabel="width",
           title="(b) width needed against the theorem's")
    from matplotlib.ticker import NullFormatter
    bx.set_xticks(study.lambda0, [f"{v:.2g}" for v in study.lambda0])
    bx.xaxis.set_minor_formatter(NullFormatter())
    legend_outside(ax, where="right", fontsize=7)
    legend_outside(bx, where="right", fontsize=7)
    return fig


# ---------------------------------------------------------------- claims and metrics

def add_claims(claims: Any, *, widths: ConvergenceStudy, separation: PairSeparationStudy, alpha: dict[str, float],
               tolerances: dict[str, float], large_width: int, rate_factor: float = 0.5,
               lambda_fraction: float = 0.5, width_exponent: float = -0.5, lambda_exponent: float = 4.0,
               bound_scale: float = 1.0) -> None:
    """Record notebook 10's claims in ``claims`` (a ``ClaimSet``).

    Predictions, with the planted errors of tests/power: ``rate_factor`` c of the rate
    (1 − cηλ₀)^k (Theorem 4.1: 1/2); ``lambda_fraction`` of λ₀ that λ_min(H(k)) keeps (Lemma
    3.2: 1/2); ``width_exponent`` of the flips, the weight movement and ‖H(0) − H∞‖₂ in m
    (−1/2); ``lambda_exponent`` γ of m* ∝ λ₀^(−γ) (4, from R′ < R); ``bound_scale`` multiplies
    the sufficient width N⁶/(λ₀⁴δ³) (1: constants dropped).
    """
    c = claims
    large = widths.widths >= large_width
    rate = float(widths.rate_factors()[large].min())
    c.greater_than(f"loss <= (1 - {rate_factor:g} eta lambda0)^k loss(0) for all k, m >= {large_width} "
                   "(largest rate factor c, min over seeds)", f"{DU}, Thm 4.1", rate, rate_factor, digits=2,
                   resolution=rate, resolution_kind="bound")
    ratio = float(widths.lambda_ratio()[large].min())
    c.greater_than(f"lambda_min(H(k)) >= {lambda_fraction:g} lambda0 throughout training, m >= {large_width} "
                   "(min over k and seeds, / lambda0)", f"{DU}, Lemma 3.2", ratio, lambda_fraction, digits=3,
                   prediction=lambda s: ratio / s)
    names = {"flipped": ("flipped activation patterns", "Lemma 3.2", "flips"),
             "max_weight_change": ("largest weight movement max_r |w_r(K) - w_r(0)|", "Lemma 3.3, Cor. 4.1, Fig. 1c",
                                   "weights"),
             "gram_error": ("|H(0) - H_inf|_2", "Lemma 3.1, Remark 3.1", "gram")}
    for q, (label, where, key) in names.items():
        c.slope(f"{label} ∝ m^{width_exponent:g} (slope, m >= {widths.fit_from})", f"{DU}, {where}",
                widths.fit(q, ci=1 - alpha[key]), width_exponent, tol=tolerances["slope"], alpha=alpha[key])
    loose = separation.looseness_decades(bound_scale)
    worst = float(-np.min(loose)) if np.all(np.isfinite(loose)) else math.nan
    c.less_than(f"the theorem's width suffices: m* <= {bound_scale:g} N^6/(lambda0^4 delta^3), delta={separation.delta:g} "
                "(max log10 m*/bound; resolution: decades)", f"{DU}, Thm 4.1", worst, 0.0, digits=2,
                resolution=None if math.isnan(worst) else -worst, resolution_kind="bound")
    mid, lo, hi = separation.exponent()
    tol = tolerances["lambda_exponent"]
    c.check(f"width needed m* ∝ lambda0^-{lambda_exponent:g} (gamma range from the grid's brackets)",
            f"{DU}, Lemmas 3.2–3.3 (R' < R)", bool(lo - tol <= lambda_exponent <= hi + tol), mid,
            f"{lambda_exponent:g} in [low, high] ± {tol:g}", digits=2,
            tolerance=f"gamma in [{lo:.2f}, {hi:.2f}] ± {tol:g}",
            resolution=(hi - lo) / 2 + tol if math.isfinite(hi - lo) else None, resolution_kind="interval")


def metrics(*, widths: ConvergenceStudy, separation: PairSeparationStudy) -> dict[str, Any]:
    """The studies' numbers for the results file."""
    return {"widths": widths.metrics(), "separation": separation.metrics()}
