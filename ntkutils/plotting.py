"""One house style and one way to save figures.

* ``use_house_style()`` (or ``with house_style(): ...``): readable sans-serif defaults for
  notebooks, the Okabe–Ito colour-blind-safe cycle, no LaTeX.
* ``save_figure(fig, name, directory=None)`` writes ``<directory>/<name>.pdf`` and ``.png``
  (default directory ``figures_dir()``) atomically with fixed metadata, so the same figure
  gives byte-identical files on every run.
* ``band_plot`` (mean ± k·std band) and ``loglog_with_fit`` (points and a ``SlopeFit`` line).

The module never imports ``pyplot`` and never selects a backend; it only touches ``rcParams``
and the figures it is given. A leaf module apart from ``ntkutils.paths`` and
``ntkutils.stats`` (both leaves).
"""

from __future__ import annotations

import io
import json
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

__all__ = ["OKABE_ITO", "HATCHES", "HOUSE_STYLE", "use_house_style", "house_style", "save_figure",
           "band_plot", "loglog_with_fit", "slope_panel", "width_ticks", "percentile_band", "legend_outside",
           "layout_report", "layout_problems", "LAYOUT_KEY", "plot_above_bound",
           "certificate_panel", "eigenvalue_panel",
           "spectrum_panel", "bound_legend"]

#: Hatch patterns for overlapping bands (with the palette, bands stay apart in grey-scale too).
HATCHES = ("////", "\\\\", "xx", "..", "++", "--")

#: PNG text key under which ``save_figure`` stores the figure's text layout (``layout_report``).
LAYOUT_KEY = "ntk-repro layout"

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


def new_figure(nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] = (6.4, 3.6)) -> tuple[Figure, Any]:
    """``plt.subplots(nrows, ncols, figsize=figsize)``: pyplot is imported only here, when a
    figure is made, so that a notebook shows the figure and importing ``ntkutils`` stays light.

    Returns:
        ``(fig, axes)`` as ``plt.subplots`` gives them.
    """
    import matplotlib.pyplot as plt

    return plt.subplots(nrows, ncols, figsize=figsize)


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


def save_figure(fig: Figure, name: str, *, dpi: float | None = None,
                directory: str | os.PathLike[str] | None = None) -> dict[str, Path]:
    """Save ``fig`` as ``<directory>/<name>.pdf`` and ``.png``.

    Each file is rendered to memory and moved into place atomically (temporary file +
    ``os.replace``). Metadata are fixed (no creation date; Creator "ntk-repro"; fixed PNG
    "Software"), and ``svg.hashsalt`` is pinned while saving, so the
    same figure gives the same bytes on every run with the same matplotlib. The PNG also
    carries the figure's text layout (``layout_report``) under ``LAYOUT_KEY``, which
    ``tests/unit/test_figure_layout.py`` checks on every stored figure. The figure is not
    closed.

    Args:
        fig: The figure.
        name: A file stem such as ``"02_ntk_convergence_width"``.
        dpi: PNG resolution (default ``rcParams["savefig.dpi"]``).
        directory: where to write (default ``ntkutils.paths.figures_dir()``).

    Returns:
        ``{"pdf": .., "png": ..}``: the paths written.

    Raises:
        ValueError: If ``name`` is empty, has a path separator, or has an extension, or
            ``fig`` is not a matplotlib Figure.
    """
    name = _check_name(name)
    if not isinstance(fig, Figure):
        raise ValueError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    out_dir = Path(directory) if directory is not None else figures_dir()
    paths: dict[str, Path] = {}
    png_metadata = _PNG_METADATA | {LAYOUT_KEY: json.dumps(layout_report(fig), sort_keys=True)}
    with mpl.rc_context({"svg.hashsalt": "ntk-repro"}):
        for fmt, metadata in (("pdf", _PDF_METADATA), ("png", png_metadata)):
            buf = io.BytesIO()
            kwargs: dict[str, Any] = {"format": fmt, "metadata": dict(metadata), "bbox_inches": "tight"}
            if fmt == "png" and dpi is not None:
                kwargs["dpi"] = dpi
            fig.savefig(buf, **kwargs)
            paths[fmt] = atomic_write_bytes(out_dir / f"{name}.{fmt}", buf.getvalue())
    return paths


def band_plot(ax: Axes, x: Any, mean: Any, std: Any, label: str | None = None, *, k: float = 1.0,
              color: Any = None, alpha: float = 0.25, hatch: str | None = None,
              **line_kwargs: Any) -> Any:
    """Plot ``mean`` against ``x`` with a shaded band ``mean ± k·std``.

    The band takes the line's colour; with a ``hatch`` it also gets an outline and that hatch,
    so that overlapping bands stay distinguishable.

    Args:
        ax: The axes.
        x: 1-D, length P.
        mean: 1-D, length P.
        std: 1-D, length P, std >= 0.
        label: Legend label of the line.
        k: Band half-width in units of ``std``.
        color: Line colour.
        alpha: Opacity of the band.
        hatch: Optional hatch (e.g. from ``HATCHES``).
        **line_kwargs: Passed to ``ax.plot``.

    Returns:
        The Line2D.

    Raises:
        ValueError: On mismatched shapes or a negative ``std``.
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
    if hatch is None:
        ax.fill_between(x_a, m_a - k * s_a, m_a + k * s_a, color=line.get_color(), alpha=alpha,
                        linewidth=0)
    else:
        ax.fill_between(x_a, m_a - k * s_a, m_a + k * s_a, hatch=hatch, linewidth=0.8,
                        facecolor=mpl.colors.to_rgba(line.get_color(), alpha),
                        edgecolor=line.get_color())
    return line


def loglog_with_fit(ax: Axes, x: Any, y: Any, fit: SlopeFit, label: str | None = None, *,
                    color: Any = None, marker: str = "o", slope_digits: int = 2) -> tuple[Any, Any]:
    """Log-log plot of the data and the fitted power law.

    The fitted line ``exp(intercept)·x^slope`` is dashed in the same colour, and its legend
    entry gives the slope and its bootstrap interval, e.g. ``"fit: slope −0.49 [−0.53, −0.45]"``.

    Args:
        ax: The axes.
        x: Shape (P,), as passed to ``loglog_slope``.
        y: Shape (P,) or (P, R) (then the mean over repeats is plotted with ± one standard
            deviation over repeats as error bars), as passed to ``loglog_slope``.
        fit: The ``SlopeFit``.
        label: Legend label of the points.
        color: Colour of points and line.
        marker: Marker of the points.
        slope_digits: Decimals of the slope in the legend.

    Returns:
        ``(points, fit_line)``.

    Raises:
        ValueError: On mismatched shapes.
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
    """Normal Q–Q plot of labelled samples, with the line y = x.

    Args:
        ax: The axes.
        samples: Label -> 1-D sample (already standardised to unit variance).
        n_points: Number of empirical quantiles plotted against those of N(0, 1).
    """
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
    axes.

    Args:
        ax: The axes.
        x: 1-D.
        y: 1-D, the length of ``x``.
        err: 1-D, the length of ``x``.
        label: Legend label.
        marker: Marker of the points.
        color: Colour.

    Returns:
        The Line2D of the data points.

    Raises:
        ValueError: On mismatched shapes.
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


def legend_outside(ax: Axes, *, where: str = "right", **kwargs: Any) -> Any:
    """A legend next to the axes, never over the data.

    Args:
        ax: The axes.
        where: ``"right"`` or ``"below"``.
        **kwargs: Passed to ``ax.legend`` (override the placement and font size).

    Returns:
        The Legend.

    Raises:
        ValueError: If ``where`` is neither ``"right"`` nor ``"below"``.
    """
    if where == "right":
        placement = dict(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    elif where == "below":
        placement = dict(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, borderaxespad=0.0)
    else:
        raise ValueError(f"where must be 'right' or 'below', got {where!r}")
    return ax.legend(**(placement | dict(fontsize=8) | kwargs))


def slope_panel(ax: Axes, x: Any, y: Any, fit: SlopeFit, *, label: str | None = None,
                guides: tuple[float, ...] = (), xlabel: str = "width n", ylabel: str = "",
                legend: str | None = "right") -> None:
    """The recurring log-log panel of a quantity against width with its fitted power law.

    Mean ± sd over repeats, the fitted power law with its interval (``loglog_with_fit``),
    dotted guide lines ``x^s`` for each slope ``s`` in ``guides`` (anchored at the first mean),
    axis labels and a legend outside the data.

    Args:
        ax: The axes.
        x: (P,) widths.
        y: (P,) or (P, R) values (R repeats).
        fit: The ``SlopeFit`` of ``y`` on ``x`` (e.g. ``stats.loglog_slope_t``).
        label: Legend label of the data.
        guides: Slopes of the guide lines.
        xlabel: x-axis label.
        ylabel: y-axis label.
        legend: ``"right"``, ``"below"`` or None (no legend).
    """
    loglog_with_fit(ax, x, y, fit, label=label)
    x_a = np.asarray(x, dtype=np.float64)
    y_a = np.asarray(y, dtype=np.float64)
    start = y_a.mean(axis=1)[0] if y_a.ndim == 2 else y_a[0]
    for slope, style in zip(guides, (":", "-.", (0, (1, 3)), (0, (5, 2, 1, 2)))):
        ax.plot(x_a, start * (x_a / x_a[0]) ** slope, color="k", ls=style, lw=0.8,
                label=f"$n^{{{slope:g}}}$")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    width_ticks(ax, x_a)
    if legend:
        legend_outside(ax, where=legend)


def width_ticks(ax: Axes, x: Any, *, max_labels: int = 7) -> None:
    """Label a log x-axis at the widths ``x`` themselves.

    Plain numbers, every k-th one, instead of matplotlib's crowded minor labels ``3×10²``,
    ``4×10²``.

    Args:
        ax: The axes.
        x: The widths.
        max_labels: At most this many labels show.
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    values = np.unique(np.asarray(x, dtype=np.float64))
    step = int(np.ceil(len(values) / max_labels))
    ax.xaxis.set_major_locator(FixedLocator(values[::step]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def percentile_band(ax: Axes, x: Any, samples: Any, *, q: tuple[float, float] = (5.0, 95.0),
                    label: str | None = None, color: Any = None, hatch: str | None = None,
                    alpha: float = 0.2) -> Any:
    """Median of ``samples`` over repeats against ``x``, with the band between two percentiles.

    The band has an outline in the line's colour and optionally a ``hatch``, so that two
    overlapping bands stay distinguishable.

    Args:
        ax: The axes.
        x: (P,).
        samples: (P, R).
        q: The percentiles, 0 <= q0 < q1 <= 100.
        label: Legend label.
        color: Colour.
        hatch: Optional hatch of the band.
        alpha: Opacity of the band.

    Returns:
        The line.

    Raises:
        ValueError: On mismatched shapes or bad percentiles.
    """
    x_a = np.asarray(x, dtype=np.float64)
    s_a = np.asarray(samples, dtype=np.float64)
    if x_a.ndim != 1 or s_a.ndim != 2 or s_a.shape[0] != x_a.shape[0]:
        raise ValueError(f"x must be (P,) and samples (P, R), got shapes {x_a.shape} and {s_a.shape}")
    if not 0 <= q[0] < q[1] <= 100:
        raise ValueError(f"q must be two percentiles 0 <= q0 < q1 <= 100, got {q!r}")
    low, mid, high = np.percentile(s_a, [q[0], 50.0, q[1]], axis=1)
    (line,) = ax.plot(x_a, mid, color=color, label=label)
    colour = line.get_color()
    ax.fill_between(x_a, low, high, facecolor=mpl.colors.to_rgba(colour, alpha), edgecolor=colour,
                    hatch=hatch, linewidth=0.8)
    return line


def layout_report(fig: Figure) -> dict[str, Any]:
    """Where the figure's visible texts are, in display pixels.

    Args:
        fig: The figure (drawn here; a bare Figure gets an Agg canvas).

    Returns:
        ``{"canvas": [w, h], "texts": [{"kind", "axis", "text", "bbox": [x0, y0, x1, y1]},
        ...]}``. ``kind`` is ``tick`` (tick labels; ``axis`` names the axes and x/y) or
        ``text`` (labels, titles, legend texts).
    """
    if not hasattr(fig.canvas, "get_renderer"):      # a bare Figure: give it an Agg canvas
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts: list[dict[str, Any]] = []

    def add(kind: str, axis: str, artist: Any) -> None:
        if not artist.get_visible() or not artist.get_text().strip():
            return
        box = artist.get_window_extent(renderer)
        texts.append({"kind": kind, "axis": axis, "text": artist.get_text(),
                      "bbox": [_stable_round(v) for v in (box.x0, box.y0, box.x1, box.y1)]})

    for i, ax in enumerate(fig.axes):
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            scale = axis.get_transform().transform    # compare in the axis scale (log axes)
            lo, hi = sorted(float(v) for v in scale(np.asarray(getattr(ax, f"get_{name}lim")())))
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                loc = float(scale(np.asarray([tick.get_loc()]))[0])
                if lo - 1e-12 * abs(hi - lo) <= loc <= hi + 1e-12 * abs(hi - lo):
                    add("tick", f"{i}{name}", tick.label1)
            add("text", f"{i}{name}", axis.label)
        for text in [ax.title, *ax.texts]:
            add("text", f"{i}", text)
        legend = ax.get_legend()
        for text in legend.get_texts() if legend is not None else []:
            add("text", f"{i}", text)
    for text in fig.texts + ([fig._suptitle] if getattr(fig, "_suptitle", None) else []):
        add("text", "figure", text)
    return {"canvas": [_stable_round(fig.bbox.width), _stable_round(fig.bbox.height)],
            "texts": texts}


def _stable_round(value: Any) -> float:
    """``value`` to 0.1 px, snapped to 1e-6 first: a text's extent can differ by ~1e-13 between
    two draws of the same figure, which would flip a plain ``round`` at a .x5 boundary (e.g.
    204.74999999999997 against 204.75000000000003) and change the bytes of a saved PNG."""
    return round(round(float(value), 6), 1)


def layout_problems(report: dict[str, Any], *, slack: float = 1.0) -> list[str]:
    """What a reader would trip over in a ``layout_report``.

    Args:
        report: A ``layout_report``.
        slack: Tolerance in pixels.

    Returns:
        One message per problem: a text outside the canvas (by more than ``slack`` pixels) or
        two tick labels of one axis that overlap.
    """
    width, height = report["canvas"]
    problems = []
    for t in report["texts"]:
        x0, y0, x1, y1 = t["bbox"]
        if x0 < -slack or y0 < -slack or x1 > width + slack or y1 > height + slack:
            problems.append(f"{t['text']!r} ({t['kind']}) lies outside the {width}x{height} canvas")
    ticks: dict[str, list[dict[str, Any]]] = {}
    for t in report["texts"]:
        if t["kind"] == "tick":
            ticks.setdefault(t["axis"], []).append(t)
    for axis, labels in ticks.items():
        for i, a in enumerate(labels):
            for b in labels[i + 1:]:
                (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = a["bbox"], b["bbox"]
                if min(ax1, bx1) - max(ax0, bx0) > slack and min(ay1, by1) - max(ay0, by0) > slack:
                    problems.append(f"tick labels {a['text']!r} and {b['text']!r} overlap "
                                    f"(axes {axis})")
    return problems


def plot_above_bound(ax: Axes, x: Any, y: Any, bound: Any, *, color: Any = None, fmt: str = "o-",
                     label: str | None = None, **kwargs: Any) -> Any:
    """Values that a numerical bound certifies as data, the others as markers, on a log y-axis.

    Points with ``y > bound`` are drawn as data (``fmt``, ``label``, ``kwargs``); the others
    are not data (the value is within its error bound of 0): an open downward triangle marks
    their ``x`` at the bottom edge of the axes. The bound itself is a dotted line.

    Args:
        ax: the axes (meant for ``yscale="log"``).
        x: abscissae, shape (P,).
        y: values, shape (P,), e.g. λ̂_min/λ̂_max.
        bound: their error bounds, a float or shape (P,), e.g. B/λ̂_max.
        color: one colour for data, markers and bound.

    Returns:
        The Line2D of the data points (possibly empty).

    Raises:
        ValueError: ``x`` and ``y`` not 1-D of one length, or ``bound`` of another shape.
    """
    x_a, y_a = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x_a.ndim != 1 or x_a.shape != y_a.shape or np.ndim(bound) not in (0, 1):
        raise ValueError(f"x and y must be 1-D of one length and bound a float or (P,), got "
                         f"shapes {x_a.shape}, {y_a.shape}, {np.shape(bound)}")
    if np.ndim(bound) == 1 and np.shape(bound) != x_a.shape:
        raise ValueError(f"bound must have the shape of x, got {np.shape(bound)} and {x_a.shape}")
    b_a = np.broadcast_to(np.asarray(bound, dtype=np.float64), x_a.shape)
    above = y_a > b_a
    (line,) = ax.plot(x_a[above], y_a[above], fmt, color=color, label=label, **kwargs)
    colour = line.get_color()
    if (~above).any():
        ax.plot(x_a[~above], np.full((~above).sum(), 0.03), "v", mfc="none", color=colour,
                transform=ax.get_xaxis_transform(), clip_on=False)
    ax.plot(x_a, b_a, ":", color=colour, lw=0.8)
    return line


def certificate_panel(ax: Axes, series: Any, *, xlabel: str, title: str | None = None,
                      xscale: str = "linear",
                      ylabel: str = r"$\lambda_{\min}/\lambda_{\max}$") -> None:
    """The panel of λ_min certificates, one line per label.

    The y-axis is logarithmic, the x ticks are the x values, and ``bound_legend`` explains
    the markers outside the data.

    Args:
        ax: the axes.
        series: ``{label: {x: Certificate}}`` (``ntkutils.spectral.Certificate``), drawn in the
            colours C0, C1, … with ``plot_above_bound`` of λ̂_min/λ̂_max against B/λ̂_max: data
            where λ_min is certified positive, a marker at the bottom edge where it is not.
        xlabel: x-axis label.
        title: Panel title.
        xscale: "linear" or "log" (base 2).
        ylabel: y-axis label.
    """
    xs: list[float] = []
    for i, (label, certs) in enumerate(series.items()):
        xs = list(certs)
        plot_above_bound(ax, xs, [c.ratio for c in certs.values()],
                         [c.bound_ratio for c in certs.values()], color=f"C{i}", label=label)
    if xscale == "log":
        ax.set_xscale("log", base=2)
    elif xscale != "linear":
        raise ValueError(f"xscale must be 'linear' or 'log', got {xscale!r}")
    ax.set(yscale="log", xlabel=xlabel, ylabel=ylabel, title=title)
    ax.set_xticks(xs, [f"{v:g}" for v in xs])
    ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    bound_legend(ax)


def eigenvalue_panel(ax: Axes, certs: Any, *, count: int = 40, title: str | None = None) -> None:
    """The largest eigenvalues λ_i/λ_max of each labelled certificate.

    i = 1 … ``count``, largest first, through ``plot_above_bound`` against B/λ_max: data where
    certified nonzero, markers at the bottom edge where not. Log y-axis; the legend is left to
    ``bound_legend``.

    Args:
        ax: The axes.
        certs: ``{label: Certificate}``, colours C0, C1, ….
        count: Number of eigenvalues.
        title: Panel title.
    """
    for i, (label, c) in enumerate(certs.items()):
        top = c.eigenvalues[::-1][:count] / c.eigenvalues[-1]
        plot_above_bound(ax, np.arange(1, len(top) + 1), top, c.bound_ratio, color=f"C{i}",
                         fmt=".-", label=label)
    ax.set(yscale="log", xlabel="eigenvalue index i", title=title)


def spectrum_panel(ax: Axes, spectra: Any, bounds: Any, even: Any, odd: Any, *,
                   closed_form: Any = None, title: str | None = None,
                   label_odd: bool = True) -> None:
    """|μ_k| against the frequency k on log-log axes, one colour per kernel.

    Args:
        ax: the axes.
        spectra: ``{label: μ}``, μ of shape (K,) indexed by k (e.g. ``circle_spectrum``).
        bounds: ``{label: b}``, the error bound of each spectrum's coefficients.
        even, odd: integer frequencies; even ones are drawn as dots, odd ones through
            ``plot_above_bound`` (crosses where |μ_k| > b, markers at the bottom edge where
            |μ_k| is within the bound of 0).
        closed_form: optional ``{label: values at even}``, drawn as thin grey lines.
        title: the panel title; ``label_odd``: whether the odd points get legend entries.
    """
    for i, (label, mu) in enumerate(spectra.items()):
        s, colour = np.abs(np.asarray(mu, dtype=np.float64)), f"C{i}"
        ax.plot(even, s[even], ".", color=colour, label=f"{label}, even k")
        plot_above_bound(ax, odd, s[odd], bounds[label], color=colour, fmt="x", ms=3,
                         label=f"{label}, odd k" if label_odd else None)
        if closed_form is not None:
            ax.plot(even, closed_form[label], "-", lw=0.6, color="0.3")
    ax.set(xscale="log", yscale="log", xlabel="frequency k", title=title)
    ax.xaxis.set_minor_formatter(mpl.ticker.NullFormatter())   # decades only: no crowding


def bound_legend(ax: Axes, below: str = "not certified positive",
                 bound: str = r"bound $B/\lambda_{\max}$", *, where: str = "right",
                 **kwargs: Any) -> Any:
    """``legend_outside`` with two more entries that explain ``plot_above_bound``.

    Args:
        ax: The axes.
        below: Label of the open triangle: what the values not drawn as data are.
        bound: Label of the dotted bound line.
        where: As ``legend_outside``.
        **kwargs: Passed to ``legend_outside``.

    Returns:
        The Legend.
    """
    ax.plot([], [], "kv", mfc="none", label=f"{below}\n(at the bottom edge, not data)")
    ax.plot([], [], "k:", lw=0.8, label=bound)
    return legend_outside(ax, where=where, **kwargs)


def exponent_panel(ax: Axes, t: Any, fits: Any, *, label: str = "exponent",
                   guides: tuple[float, ...] = (), color: Any = None, xlabel: str = "t",
                   ylabel: str = "exponent", legend: str | None = "right") -> Any:
    """A fitted exponent against time, with its interval as a band.

    The slope of each ``SlopeFit`` in ``fits`` (one per time in ``t``), horizontal guide lines
    at the slopes in ``guides``, a log time axis and a legend outside the data.

    Args:
        ax: The axes.
        t: (T,) positive times.
        fits: T fits (e.g. ``stats.loglog_slope_t`` at each time).
        label: Legend label of the slope.
        guides: Slopes of the guide lines (e.g. −1/2 and −1).
        color: Colour.
        xlabel: x-axis label.
        ylabel: y-axis label.
        legend: ``"right"``, ``"below"`` or None (no legend).

    Returns:
        The slope's Line2D.

    Raises:
        ValueError: When the lengths differ.
    """
    t_a = np.asarray(t, dtype=np.float64)
    fits = list(fits)
    if t_a.ndim != 1 or t_a.shape[0] != len(fits):
        raise ValueError(f"t must be (T,) with one fit per time, got shape {t_a.shape} and "
                         f"{len(fits)} fits")
    slope, low, high = (np.array([getattr(f, k) for f in fits], dtype=np.float64)
                        for k in ("slope", "ci_low", "ci_high"))
    (line,) = ax.semilogx(t_a, slope, color=color, label=label)
    ax.fill_between(t_a, low, high, alpha=0.3, color=line.get_color(), linewidth=0)
    for level, style in zip(guides, (":", "-.", (0, (1, 3)), (0, (5, 2, 1, 2)))):
        ax.axhline(level, color="k", ls=style, lw=0.8, label=f"$n^{{{level:g}}}$")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    _decade_labels_only(ax, t_a)
    if legend:
        legend_outside(ax, where=legend)
    return line


def _decade_labels_only(ax: Axes, t: Any) -> None:
    """On a log x-axis spanning at least a decade, label the decades only (matplotlib would
    also label minor ticks such as 3×10⁻¹, 4×10⁻¹, which then overlap)."""
    from matplotlib.ticker import NullFormatter

    t_a = np.asarray(t, dtype=np.float64)
    t_a = t_a[t_a > 0]
    if t_a.size and t_a.max() >= 10 * t_a.min():
        ax.xaxis.set_minor_formatter(NullFormatter())


__all__ += ["exponent_panel"]


def curve_bundles(ax: Axes, x: Any, bundles: Any, *, reference: Any = None,
                  reference_label: str | None = None, xlabel: str = "", ylabel: str = "",
                  legend: str | None = "right", lw: float = 0.7, alpha: float = 0.7) -> None:
    """Groups of curves against ``x``, one colour (``C0``, ``C1``, …) and one legend entry per
    group, e.g. the kernel slices Θ̂(x0, x(γ)) of several initialisations at one width and time
    (Jacot et al. 2018, Fig. 1); an optional ``reference`` curve (black, dashed), axis labels,
    the x-range of the data and a legend outside the data.

    Args:
        ax: the axes to draw on.
        x: (G,) abscissae.
        bundles: ``{label: curves}``, ``curves`` of shape (R, G) (R curves of one group).
        reference: (G,) or None.
        reference_label, xlabel, ylabel: texts; ``legend``: ``"right"``, ``"below"`` or None.

    Raises:
        ValueError: a group or the reference does not have G values per curve.
    """
    x_a = np.asarray(x, dtype=np.float64)
    for c, (label, curves) in enumerate(dict(bundles).items()):
        y = np.asarray(curves, dtype=np.float64)
        if x_a.ndim != 1 or y.ndim != 2 or y.shape[1] != x_a.shape[0]:
            raise ValueError(f"x must be (G,) and bundle {label!r} (R, G), got shapes {x_a.shape} "
                             f"and {y.shape}")
        ax.plot(x_a, y.T, color=f"C{c}", lw=lw, alpha=alpha)[0].set_label(label)
    if reference is not None:
        ref = np.asarray(reference, dtype=np.float64)
        if ref.shape != x_a.shape:
            raise ValueError(f"reference must have the shape of x {x_a.shape}, got {ref.shape}")
        ax.plot(x_a, ref, "k--", lw=1.5, label=reference_label)
    ax.set(xlabel=xlabel, ylabel=ylabel, xlim=(float(x_a.min()), float(x_a.max())))
    if legend:
        legend_outside(ax, where=legend)


def mean_test_panel(ax: Axes, x: Any, values: Any, test: Any, *, label: str | None = None,
                    interval_label: str | None = None, expected_label: str | None = None,
                    xlabel: str = "width n", ylabel: str = "", legend: str | None = "right") -> None:
    """One point per unit (e.g. per network) against ``x`` on a log x-axis, the interval of a
    test of their (pooled) mean as a band and the expected value as a dashed line.

    Args:
        ax: the axes to draw on.
        x: (S,) positive abscissae (e.g. widths); ``values``: (S,) one value per unit.
        test: a ``stats.MeanTest``-like object (``ci_low``, ``ci_high``, ``expected``).
        label, interval_label, expected_label: legend texts of points, band and line.
        xlabel, ylabel: axis labels; ``legend``: ``"right"``, ``"below"`` or None.

    Raises:
        ValueError: ``x`` and ``values`` are not 1-D of one length.
    """
    x_a, v = np.asarray(x, dtype=np.float64), np.asarray(values, dtype=np.float64)
    if x_a.ndim != 1 or x_a.shape != v.shape:
        raise ValueError(f"x and values must be 1-D of one length, got shapes {x_a.shape} and {v.shape}")
    ax.semilogx(x_a, v, "o", ms=3, alpha=0.3, label=label)
    ax.axhspan(test.ci_low, test.ci_high, color="C1", alpha=0.4, label=interval_label)
    ax.axhline(test.expected, color="k", ls="--", lw=1, label=expected_label)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    width_ticks(ax, x_a)
    if legend:
        legend_outside(ax, where=legend)


__all__ += ["curve_bundles", "mean_test_panel"]


def loglog_fits_panel(ax: Axes, x: Any, values: dict[str, Any], fits: dict[str, SlopeFit], *,
                      xlabel: str = "width n", ylabel: str = "", markers: str = "osv^<>dpP*",
                      legend: str | None = "right", fontsize: float = 7.0) -> None:
    """Several quantities and their fitted power laws on one log-log panel.

    ``loglog_with_fit`` for each, one marker each, the widths as x tick labels
    (``width_ticks``), axis labels and a legend outside the data.

    Args:
        ax: The axes.
        x: (P,) widths.
        values: {name: (P,) or (P, R)}.
        fits: {name: ``SlopeFit``} with the same names.
        xlabel: x-axis label.
        ylabel: y-axis label.
        markers: One marker per quantity.
        legend: ``"right"``, ``"below"`` or None (no legend).
        fontsize: Legend font size.

    Raises:
        ValueError: If a name has no fit or there are more quantities than ``markers``.
    """
    if set(values) - set(fits) or len(values) > len(markers):
        raise ValueError(f"every quantity needs a fit and a marker, got values {list(values)}, "
                         f"fits {list(fits)}, markers {markers!r}")
    handles = []
    for (name, v), marker in zip(values.items(), markers):
        handles += loglog_with_fit(ax, x, v, fits[name], label=name, marker=marker)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    width_ticks(ax, x)
    if legend:  # each quantity followed by its fit
        legend_outside(ax, where=legend, fontsize=fontsize, handles=handles)


def linearization_panels(axes: Any, record: Any, lin: Any, targets: Any, *, label: str,
                         style: str = "-", n_inputs: int = 3) -> None:
    """A network against its linearisation along training, on three axes (Lee et al. 2019,
    Fig. 3): training loss (log-log), test accuracy of both, and output 1 on the first
    ``n_inputs`` test inputs (one colour each; the linearisation dotted black). Call once per
    network (``label`` e.g. "n=512", ``style`` its line style); legends go below the panels.

    Args:
        axes: three matplotlib axes.
        record: the network's ``TrainingRecord`` (``t``, ``loss``, ``f_test`` (R, M, k)).
        lin: (R, M, k) the linearised model's test outputs at the same steps.
        targets: (M, k) one-hot (or (M,) labels) of the test inputs.

    Raises:
        ValueError: not three axes, or ``lin`` not shaped like ``record.f_test``.
    """
    from .stats import classification_accuracy

    if len(axes) != 3 or tuple(lin.shape) != tuple(record.f_test.shape) or lin.ndim != 3:
        raise ValueError(f"need three axes and lin shaped like record.f_test (R, M, k), got "
                         f"{len(axes)} axes and shapes {tuple(lin.shape)}, "
                         f"{tuple(record.f_test.shape)}")
    t = record.t[1:]
    axes[0].loglog(t, record.loss[1:], style, color=OKABE_ITO[0], label=f"network, {label}")
    for f, colour, name in ((record.f_test, OKABE_ITO[0], "network"), (lin, OKABE_ITO[1], "linearised")):
        accuracy = [classification_accuracy(g, targets) for g in f[1:]]
        axes[1].semilogx(t, accuracy, style, color=colour, label=f"{name}, {label}")
    for j in range(n_inputs):
        axes[2].semilogx(t, record.f_test[1:, j, 0], style, color=OKABE_ITO[2 + j % 6],
                         label=f"input {j + 1}, {label}")
        linear = "linearised" if j == 0 and not any(
            h.get_label() == "linearised" for h in axes[2].get_lines()) else None
        axes[2].semilogx(t, lin[1:, j, 0], ":", color="k", lw=0.8, label=linear)
    for ax, ylabel in zip(axes, ("training loss (½·mean)", "test accuracy", "output 1, $f_t(x)_1$")):
        ax.set(xlabel="t", ylabel=ylabel)
        _decade_labels_only(ax, t)
        legend_outside(ax, where="below")


__all__ += ["loglog_fits_panel", "linearization_panels"]


# --------------------------------------------------------------------------- notebook 01 panels
def qq_panels(axes: Any, samples: dict, variances: dict) -> None:
    """One normal Q–Q panel per depth L (``qq_plot``), every width n in each, titled
    ``"L = <L> (<L−1> hidden)"``, one legend outside the last panel.

    ``samples``: ``{(L, n): (S,) draws}``; ``variances``: ``{L: predicted variance}`` (the draws
    are divided by its square root). ``axes``: one Axes per depth, in the order of ``variances``.
    """
    for ax, L in zip(np.atleast_1d(axes), variances):
        qq_plot(ax, {f"n = {n}": v / np.sqrt(variances[L]) for (d, n), v in samples.items() if d == L})
        ax.get_legend().remove()
        ax.set_title(f"L = {L} ({L - 1} hidden)")
    legend_outside(ax)


def covariance_panel(ax: Axes, widths: Any, checks: dict) -> None:
    """Relative Frobenius error of the Monte Carlo covariance against width, one line per depth
    (log-log), with the Monte Carlo noise floor of the last (L, n) as a dotted line.

    ``checks``: ``{(L, n): stats.CovarianceCheck}`` over the depths × ``widths``.
    """
    depths = list(dict.fromkeys(L for L, _ in checks))
    for L in depths:
        ax.loglog(widths, [checks[L, n].relative_error for n in widths], "o-", label=f"L = {L}")
    ax.axhline(checks[depths[-1], widths[-1]].noise_floor, ls=":", color="k", label="Monte Carlo floor")
    ax.set(xlabel="width n", ylabel=r"$\|\hat\Sigma-\Sigma\|_F\,/\,\|\Sigma\|_F$")
    width_ticks(ax, widths)
    legend_outside(ax)


def mmd_panel(ax: Axes, widths: Any, mmd: dict, reference: dict) -> None:
    """Mean MMD² ± se over repeats against width per depth (log-log, ``positive_errorbar``),
    with reference means ± 2 se as crosses in the same colour; the y-axis starts a factor 3
    below the smallest positive mean, so bars reaching 0 end at the axis.

    ``mmd``: ``{(L, n): (R,) repeats}``; ``reference``: ``{(L, n): (μ, se)}`` (may be empty).
    """
    for L in dict.fromkeys(L for L, _ in mmd):
        r = [mmd[L, n] for n in widths]
        line = positive_errorbar(ax, widths, [m.mean() for m in r],
                                 [m.std(ddof=1) / len(m) ** 0.5 for m in r], label=f"L = {L}: this run (± se)")
        rn = [n for n in widths if (L, n) in reference]
        if rn:
            positive_errorbar(ax, rn, [reference[L, n][0] for n in rn], [2 * reference[L, n][1] for n in rn],
                              label=f"L = {L}: Matthews et al. (± 2 se)", marker="x",
                              color=line.get_color()).set_linestyle("none")
    ax.set(xscale="log", yscale="log", xlabel="width n", ylabel="MMD² (networks vs GP)")
    low = [v for v in [*(m.mean() for m in mmd.values()), *(mu for mu, _ in reference.values())] if v > 0]
    ax.set_ylim(bottom=min(low, default=1e-6) / 3)
    width_ticks(ax, widths)
    legend_outside(ax)


def moment_panels(axes: Any, widths: Any, study: Any) -> None:
    """Two panels of a ``gp_checks.MomentStudy``: (0) mean f² / predicted Σ(x₁, x₁) ± 2 se per
    depth (points side by side) with the line 1; (1) the excess kurtosis ± 2 se (log-log,
    ``positive_errorbar``) with the exact κ_n as a line in the same colour.
    """
    depths = list(dict.fromkeys(L for L, _ in study.moments))
    for i, L in enumerate(depths):
        m, v = [study.moments[L, n] for n in widths], study.predicted[L]
        shift = [n * 1.04 ** (i - 1) for n in widths]
        axes[0].errorbar(shift, [e.second / v for e in m], [2 * e.second_se / v for e in m], fmt="o", ms=3)
        pts = positive_errorbar(axes[1], widths, [e.kurtosis for e in m], [2 * e.kurtosis_se for e in m],
                                label=f"L = {L} (± 2 se)")
        pts.set_linestyle("none")
        axes[1].plot(widths, [study.laws[L, n].excess_kurtosis for n in widths], "-",
                     color=pts.get_color(), lw=0.8)
    axes[1].plot([], [], "k-", lw=0.8, label=r"exact $\kappa_n$")
    axes[0].axhline(1.0, color="k", lw=0.8)
    axes[0].set(xscale="log", xlabel="width n", ylabel=r"$\overline{f(x_1)^2}\,/\,\Sigma(x_1,x_1)$")
    axes[1].set(xscale="log", yscale="log", xlabel="width n", ylabel=r"excess kurtosis of $f(x_1)$")
    positive = [e.kurtosis for e in study.moments.values() if e.kurtosis > 0]
    axes[1].set_ylim(bottom=min(positive, default=1e-3) / 3)
    for ax in axes:
        width_ticks(ax, widths)
    legend_outside(axes[1])


__all__ += ["qq_panels", "covariance_panel", "mmd_panel", "moment_panels"]


def eigenvalue_panels(axes: Any, certs: Any, *, count: int = 40) -> None:
    """``eigenvalue_panel`` for each input dimension n0 of ``certs`` (``{(n0, label, L):
    Certificate}``, e.g. polynomial activations on S¹ and S²), one axes each in order of first
    appearance, titled S^(n0−1), lines labelled "label, L=L"; the y-label on the first axes,
    ``bound_legend`` ("not certified nonzero") on the last.

    Raises:
        ValueError: a different number of axes and input dimensions.
    """
    dims = list(dict.fromkeys(n0 for n0, _, _ in certs))
    axes = list(np.ravel(axes))
    if len(axes) != len(dims):
        raise ValueError(f"need one axes per input dimension {dims}, got {len(axes)} axes")
    for ax, d in zip(axes, dims):
        eigenvalue_panel(ax, {f"{a}, L={L}": c for (n0, a, L), c in certs.items() if n0 == d},
                         count=count, title=f"$S^{d - 1}$")
    axes[0].set_ylabel(r"$\lambda_i/\lambda_{\max}$")
    bound_legend(axes[-1], "not certified nonzero")


def relu_spectrum_panels(axes: Any, sp: Any) -> None:
    """The relu spectra on the circle at L = 2 (``spectral.ReluCircleSpectra``) in two panels
    of ``spectrum_panel``: without bias with the aliased closed form (grey lines), and with the
    first bias of ``sp``; |μ_k| y-label on the first, ``bound_legend`` on the second.

    Raises:
        ValueError: not two axes, or no biased spectrum at L = 2.
    """
    axes = list(np.ravel(axes))
    biased = [b for (L, b, _) in sp.spectra if L == 2 and b is not None]
    if len(axes) != 2 or not biased:
        raise ValueError(f"need two axes and a biased spectrum at L = 2, got {len(axes)} axes")
    kinds = list(sp.closed)
    for ax, b in zip(axes, (None, biased[0])):
        closed = sp.closed_form() if b is None else None
        spectrum_panel(ax, {kd: sp.spectra[2, b, kd] for kd in kinds},
                       {kd: sp.bounds[2, b, kd] for kd in kinds}, sp.closed_k, sp.odd_k,
                       closed_form=closed, label_odd=bool(b),
                       title="relu, L=2, " + (f"β={b}" if b else "no bias"))
    axes[0].set_ylabel(r"$|\mu_k|$")
    axes[1].plot([], [], "-", lw=0.6, color="0.3", label="closed form, aliased (left)")
    bound_legend(axes[1], r"odd $|\mu_k|$ within the error bound", "FFT error bound")


__all__ += ["eigenvalue_panels", "relu_spectrum_panels"]


# ------------------------------------------------------------------ issue 13: notebook 06's panels
def circle_curve_panels(axes: Any, gamma: Any, curves: dict, bands: dict, *, z: float, n_shown: int,
                        points: tuple, t: float) -> None:
    """Jacot et al. 2018, Fig. 2: per width one panel of the first ``n_shown`` trained curves
    over the circle angle γ, with every limiting band μ ± z·σ (hatched ``band_plot``) and the
    training points; y-label on the first panel, legend outside the last.

    Args:
        axes: one axes per width; gamma: (G,) angles; curves: {width: (E, G)}; bands:
            {name: ((G,) μ, (G,) σ)}; points: (angles, targets) of the training points; t: time.

    Raises:
        ValueError: a different number of axes and widths.
    """
    axes = list(np.ravel(axes))
    if len(axes) != len(curves):
        raise ValueError(f"need one axes per width {list(curves)}, got {len(axes)} axes")
    for ax, (n, f) in zip(axes, curves.items()):
        for (k, (m, s)), hatch, c in zip(bands.items(), HATCHES, ("k", "C4")):
            band_plot(ax, gamma, m, s, k=z, hatch=hatch, color=c, label=f"{k} limit, 10/50/90 %")
        ax.plot(gamma, f[:n_shown].T, color="C0", lw=0.7, label=["trained nets"] + [None] * (n_shown - 1))
        ax.plot(*points, "o", color="C1", ms=6, label="training points")
        ax.set(title=f"n = {n}, t = {t:g}", xlabel=r"$\gamma$, input $(\cos\gamma, \sin\gamma)$")
    axes[0].set(ylabel=r"$f_\theta(x)$")
    legend_outside(axes[-1])


def ensemble_band_panels(axes: Any, alpha: Any, references: dict, samples: Any, *, first: int,
                         times: Any, steps: Any, points: tuple) -> None:
    """Lee et al. 2019, Fig. 2: per time r one panel over the interpolation coordinate α with
    each reference's mean ± 2σ (hatched bands) and the ensemble's mean ± 2 sd (dashed).

    Args:
        axes: one axes per time; alpha: (P,) coordinates; references: {label: ``JointGaussian``
            with mean (R, first + P)}; samples: (E, R, first + P) ensemble outputs; first: the
            points before the line; times, steps: (R,) times and steps; points: the training
            images' (α, target).

    Raises:
        ValueError: a different number of axes and times.
    """
    axes = list(np.ravel(axes))
    if len(axes) != len(steps):
        raise ValueError(f"need one axes per time ({len(steps)}), got {len(axes)} axes")
    for r, ax in enumerate(axes):
        for (name, g), hatch in zip(references.items(), HATCHES):
            band_plot(ax, alpha, g.mean[r, first:], np.sqrt(g.variance[r, first:]), k=2.0, hatch=hatch,
                      label=f"{name}, ± 2σ")
        m, s = samples[:, r, first:].mean(0), samples[:, r, first:].std(0)
        ax.plot(alpha, _mean_two_sd(m, s), "k", ls="--", lw=0.9,
                label=[f"{len(samples)} nets, mean ± 2 sd", None, None])
        ax.plot(*points, "o", color="C2", ms=5, label="training images")
        ax.set(title=f"t = {times[r]:g} ({steps[r]} steps)", xlabel=r"$\alpha$")
    axes[0].set(ylabel=r"$f(x(\alpha))$")
    legend_outside(axes[-1])


def _mean_two_sd(m: Any, s: Any) -> np.ndarray:
    """(P, 3) columns m, m + 2s, m − 2s as float64 (tensors or arrays)."""
    m, s = np.asarray(m, dtype=np.float64), np.asarray(s, dtype=np.float64)
    return np.stack([m, m + 2 * s, m - 2 * s]).T


def gap_panels(axes: Any, study: Any, targets: dict, *, noise_floor: float) -> None:
    """Two panels of a ``gp_checks.WidthStudy`` against width (log x): the pooled variance
    ratios with their 99 % intervals (and the extra readout-trained members, star) and the gaps
    ± 2 jackknife se with the noise floor of ``n_nets`` exact draws (log y); legends below.

    Raises:
        ValueError: not two axes.
    """
    axes = list(np.ravel(axes))
    if len(axes) != 2:
        raise ValueError(f"need two axes, got {len(axes)}")
    ax0, ax1 = axes
    widths = study.widths
    for (k, g), marker in zip(study.gaps().items(), "osv"):
        pooled = [study.reports[n, k].pooled for n in widths]
        style = dict(marker=marker, capsize=3, label=f"{k} vs {targets[k]}")
        ax0.errorbar(widths, [c.ratio for c in pooled], np.transpose([c.error_bars for c in pooled]), **style)
        ax1.errorbar(widths, g[:, 0], 2 * g[:, 1], **style)
    ax0.errorbar([widths[-1] * 1.1], [study.readout.ratio], np.transpose([study.readout.error_bars]),
                 marker="*", color="C4", capsize=3, label=f"readout-trained, {study.readout_nets} nets")
    ax0.axhline(1.0, color="k", lw=0.8)
    ax1.axhline(noise_floor, color="k", ls=":", lw=1, label=f"noise alone, {study.n_nets} draws")
    ax0.set(xscale="log", xlabel="width n", ylabel=r"pooled $\overline{s^2/\sigma^2}$, $t>0$ (99 %)")
    ax1.set(xscale="log", yscale="log", xlabel="width n",
            ylabel=r"gap $\overline{[(\hat m-\mu)^2+(\hat s-\sigma)^2]/\sigma^2}$")
    for ax in (ax0, ax1):
        width_ticks(ax, widths)
        legend_outside(ax, where="below")


__all__ += ["circle_curve_panels", "ensemble_band_panels", "gap_panels"]
