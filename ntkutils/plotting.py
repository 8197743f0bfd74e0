"""One house style and one way to save figures.

* ``use_house_style()`` (or ``with house_style(): ...``): readable sans-serif defaults for
  notebooks, the Okabe–Ito colour-blind-safe cycle, no LaTeX.
* ``save_figure(fig, name)`` writes ``<figures_dir()>/<name>.pdf`` and ``.png`` atomically with
  fixed metadata, so the same figure gives byte-identical files on every run.
* ``band_plot`` (mean ± k·std band) and ``loglog_with_fit`` (points and a ``SlopeFit`` line).

The module never imports ``pyplot`` and never selects a backend; it only touches ``rcParams``
and the figures it is given. A leaf module apart from ``ntkutils.paths`` and
``ntkutils.stats`` (both leaves).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .paths import atomic_write_bytes, figures_dir
from .stats import SlopeFit

__all__ = ["OKABE_ITO", "HOUSE_STYLE", "use_house_style", "house_style", "save_figure",
           "band_plot", "loglog_with_fit"]

#: Okabe & Ito (2008) colour-blind-safe palette (black moved last).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")

#: rcParams applied by ``use_house_style``.
HOUSE_STYLE: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],  # ships with matplotlib: same glyphs on every machine
    "mathtext.fontset": "dejavusans",
    "text.usetex": False,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9.5,
    "figure.figsize": (6.0, 4.0),
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "savefig.dpi": 150,
    "axes.prop_cycle": cycler(color=list(OKABE_ITO)),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.8,
    "lines.markersize": 5.0,
    "legend.frameon": False,
    "image.cmap": "viridis",
    "pdf.fonttype": 42,  # embed TrueType subsets: text stays text in the PDF
    "svg.hashsalt": "ntk-repro",  # deterministic SVG ids
    "svg.fonttype": "none",
}

_PDF_METADATA = {
    "Creator": "ntk-repro",
    "Producer": f"matplotlib {mpl.__version__}",
    "CreationDate": None,
    "ModDate": None,
}
_PNG_METADATA = {"Software": "ntk-repro"}
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


def use_house_style() -> None:
    """Apply ``HOUSE_STYLE`` to ``matplotlib.rcParams`` (for the rest of the session)."""
    mpl.rcParams.update(HOUSE_STYLE)


@contextmanager
def house_style() -> Iterator[None]:
    """Context manager: ``HOUSE_STYLE`` inside the block, previous rcParams restored after."""
    with mpl.rc_context(HOUSE_STYLE):
        yield


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or name == "":
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    seps = {"/", "\\", os.sep} | ({os.altsep} if os.altsep else set())
    if any(s in name for s in seps):
        raise ValueError(f"name must be a file stem without path separators, got {name!r}")
    if not _NAME_RE.fullmatch(name):
        raise ValueError(
            f"name must start with a letter or digit and contain only letters, digits, "
            f"'_', '.', '-', got {name!r}"
        )
    if name.lower().endswith((".pdf", ".png")):
        raise ValueError(f"name must not include an extension (both .pdf and .png are written), got {name!r}")
    return name


def save_figure(fig: Figure, name: str, *, dpi: float | None = None) -> dict[str, Path]:
    """Save ``fig`` as ``<figures_dir()>/<name>.pdf`` and ``.png``; return ``{"pdf": .., "png": ..}``.

    ``name``: a file stem such as ``"02_ntk_convergence_width"`` (ValueError if empty, with a
    path separator, or with an extension). ``dpi``: PNG resolution (default
    ``rcParams["savefig.dpi"]``). Each file is rendered to memory and moved into place
    atomically (temporary file + ``os.replace``). Metadata are fixed (no creation date; Creator
    "ntk-repro"; fixed PNG "Software"), and ``svg.hashsalt`` is pinned while saving, so the
    same figure gives the same bytes on every run with the same matplotlib. The figure is not
    closed.
    """
    name = _check_name(name)
    if not isinstance(fig, Figure):
        raise ValueError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    out_dir = figures_dir()
    paths: dict[str, Path] = {}
    with mpl.rc_context({"svg.hashsalt": "ntk-repro"}):
        for fmt, metadata in (("pdf", _PDF_METADATA), ("png", _PNG_METADATA)):
            buf = io.BytesIO()
            kwargs: dict[str, Any] = {"format": fmt, "metadata": dict(metadata), "bbox_inches": "tight"}
            if fmt == "png" and dpi is not None:
                kwargs["dpi"] = dpi
            fig.savefig(buf, **kwargs)
            paths[fmt] = atomic_write_bytes(out_dir / f"{name}.{fmt}", buf.getvalue())
    return paths


def band_plot(ax: Axes, x: Any, mean: Any, std: Any, label: str | None = None, *, k: float = 1.0,
              color: Any = None, alpha: float = 0.25, **line_kwargs: Any) -> Any:
    """Plot ``mean`` against ``x`` with a shaded band ``mean ± k·std``; return the Line2D.

    ``x``, ``mean``, ``std``: 1-D of the same length P (std >= 0). The band takes the line's
    colour.
    """
    x_a = np.asarray(x, dtype=np.float64)
    m_a = np.asarray(mean, dtype=np.float64)
    s_a = np.asarray(std, dtype=np.float64)
    if not (x_a.ndim == m_a.ndim == s_a.ndim == 1 and x_a.shape == m_a.shape == s_a.shape):
        raise ValueError(f"x, mean, std must be 1-D of equal length, got shapes {x_a.shape}, "
                         f"{m_a.shape}, {s_a.shape}")
    if np.any(s_a < 0):
        raise ValueError("std must be >= 0")
    (line,) = ax.plot(x_a, m_a, label=label, color=color, **line_kwargs)
    ax.fill_between(x_a, m_a - k * s_a, m_a + k * s_a, color=line.get_color(), alpha=alpha,
                    linewidth=0)
    return line


def loglog_with_fit(ax: Axes, x: Any, y: Any, fit: SlopeFit, label: str | None = None, *,
                    color: Any = None, marker: str = "o", slope_digits: int = 2) -> tuple[Any, Any]:
    """Log-log plot of the data and the fitted power law; return ``(points, fit_line)``.

    ``x``: shape (P,); ``y``: shape (P,) or (P, R) (then the mean over repeats is plotted with
    ± one standard deviation over repeats as error bars), as passed to ``loglog_slope``.
    The fitted line ``exp(intercept)·x^slope`` is dashed in the same colour, and its legend
    entry gives the slope and its bootstrap interval, e.g. ``"fit: slope −0.49 [−0.53, −0.45]"``.
    """
    x_a = np.asarray(x, dtype=np.float64)
    y_a = np.asarray(y, dtype=np.float64)
    if x_a.ndim != 1 or y_a.ndim not in (1, 2) or y_a.shape[0] != x_a.shape[0]:
        raise ValueError(f"x must be (P,) and y (P,) or (P, R), got shapes {x_a.shape} and {y_a.shape}")
    if y_a.ndim == 2:
        points = ax.errorbar(x_a, y_a.mean(axis=1), yerr=y_a.std(axis=1), fmt=marker, color=color,
                             label=label, capsize=2)
        colour = points.lines[0].get_color()
    else:
        (points,) = ax.plot(x_a, y_a, marker, color=color, label=label)
        colour = points.get_color()
    grid = np.geomspace(x_a.min(), x_a.max(), 64)
    d = slope_digits
    text = f"fit: slope {fit.slope:.{d}f}"
    if np.isfinite(fit.ci_low) and np.isfinite(fit.ci_high):
        text += f" [{fit.ci_low:.{d}f}, {fit.ci_high:.{d}f}]"
    (line,) = ax.plot(grid, fit.predict(grid), "--", color=colour, label=text)
    ax.set_xscale("log")
    ax.set_yscale("log")
    return points, line


def qq_plot(ax: Axes, samples: dict[str, Any], *, n_points: int = 200) -> None:
    """Normal Q–Q plot: for each labelled 1-D sample (already standardised to unit variance),
    ``n_points`` empirical quantiles against those of N(0, 1), and the line y = x."""
    from scipy.stats import norm

    probs = (np.arange(n_points) + 0.5) / n_points
    theory = norm.ppf(probs)
    for label, values in samples.items():
        ax.plot(theory, np.quantile(np.asarray(values, dtype=np.float64), probs), ".", ms=3, label=label)
    lim = float(np.abs(theory).max())
    ax.plot([-lim, lim], [-lim, lim], "k-", lw=0.8)
    ax.set(xlabel="N(0, 1) quantile", ylabel="sample quantile")
    ax.legend(fontsize=7)


def positive_errorbar(ax: Axes, x: Any, y: Any, err: Any, label: str | None = None, *,
                      marker: str = "o", color: Any = None) -> Any:
    """``y ± err`` against ``x`` for a log y-axis, without drawing what a log axis cannot show.

    Points with ``y > 0`` are drawn as data with error bars (the lower bar clipped at the
    axis); points with ``y ≤ 0`` (e.g. an unbiased estimator that fell below zero) are not
    drawn as data: an open downward triangle marks their ``x`` at the bottom edge of the
    axes. ``x``, ``y``, ``err``: 1-D of one length. Returns the Line2D of the data points.
    """
    x_a, y_a, e_a = (np.asarray(v, dtype=np.float64) for v in (x, y, err))
    if not (x_a.ndim == y_a.ndim == e_a.ndim == 1 and x_a.shape == y_a.shape == e_a.shape):
        raise ValueError(f"x, y, err must be 1-D of equal length, got shapes {x_a.shape}, {y_a.shape}, {e_a.shape}")
    pos = y_a > 0
    lower = np.minimum(e_a[pos], 0.999 * y_a[pos])
    bars = ax.errorbar(x_a[pos], y_a[pos], yerr=[lower, e_a[pos]], fmt=marker + "-", ms=4, color=color,
                       label=label, lw=1.0)
    line = bars[0]
    if (~pos).any():
        ax.plot(x_a[~pos], np.full((~pos).sum(), 0.02), "v", mfc="none", color=line.get_color(),
                transform=ax.get_xaxis_transform(), clip_on=False)
    return line
