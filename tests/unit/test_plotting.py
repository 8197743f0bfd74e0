"""ntkutils.plotting: deterministic files, name checks, helpers."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib as mpl  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ntkutils.plotting import (  # noqa: E402
    HOUSE_STYLE,
    OKABE_ITO,
    band_plot,
    house_style,
    loglog_with_fit,
    save_figure,
    use_house_style,
)
from ntkutils.stats import loglog_slope  # noqa: E402


@pytest.fixture
def fig_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NTK_REPRO_FIGURES_DIR", str(tmp_path / "figs"))
    return tmp_path / "figs"


@pytest.fixture(autouse=True)
def _restore_rcparams():
    with mpl.rc_context():
        yield


def _figure() -> Figure:
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    x = np.array([64.0, 128.0, 256.0, 512.0])
    y = x[:, None] ** -0.5 * np.array([[1.0, 1.1, 0.9]])
    loglog_with_fit(ax, x, y, loglog_slope(x, y, n_boot=100), label="Θ error")
    ax.set_xlabel("width $n$")
    ax.legend()
    return fig


def test_same_figure_same_bytes(fig_dir: Path) -> None:
    use_house_style()
    fig = _figure()
    first = {k: p.read_bytes() for k, p in save_figure(fig, "01_test_panel").items()}
    second_paths = save_figure(fig, "01_test_panel")
    assert set(second_paths) == {"pdf", "png"}
    assert second_paths["pdf"] == fig_dir / "01_test_panel.pdf"
    assert second_paths["png"] == fig_dir / "01_test_panel.png"
    for k, p in second_paths.items():
        assert p.read_bytes() == first[k], k
    assert first["pdf"].startswith(b"%PDF") and first["png"].startswith(b"\x89PNG")
    # a freshly built identical figure gives identical bytes too
    third = save_figure(_figure(), "01_test_panel_again")
    assert third["pdf"].read_bytes() == first["pdf"]
    assert third["png"].read_bytes() == first["png"]
    assert sorted(p.name for p in fig_dir.iterdir()) == [
        "01_test_panel.pdf", "01_test_panel.png", "01_test_panel_again.pdf", "01_test_panel_again.png"]


def test_no_dates_in_pdf(fig_dir: Path) -> None:
    pdf = save_figure(_figure(), "dates")["pdf"].read_bytes()
    assert b"/CreationDate" not in pdf and b"/ModDate" not in pdf
    assert b"ntk-repro" in pdf


def test_different_figures_differ(fig_dir: Path) -> None:
    a = save_figure(_figure(), "a")
    fig = _figure()
    fig.axes[0].set_title("changed")
    b = save_figure(fig, "b")
    assert a["pdf"].read_bytes() != b["pdf"].read_bytes()
    assert a["png"].read_bytes() != b["png"].read_bytes()


_PROC_SCRIPT = textwrap.dedent(
    r"""
    import numpy as np
    from matplotlib.figure import Figure
    from ntkutils.plotting import save_figure, use_house_style
    use_house_style()
    fig = Figure()
    ax = fig.add_subplot()
    ax.plot(np.arange(5.0), np.arange(5.0) ** 2, "o-", label="Θ_n ± $\\sigma$")
    ax.legend()
    save_figure(fig, "proc")
    """
)


def test_same_bytes_across_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh interpreter with another hash seed writes the same files as this process.

    The child loads ``ntkutils.plotting`` under a stub parent package so that it does not pay
    for ``ntkutils/__init__.py`` (which imports torch and the models); plotting is a leaf.
    """
    import ntkutils.plotting

    pkg_dir = str(Path(ntkutils.plotting.__file__).parent)
    stub = ("import sys, types; pkg = types.ModuleType('ntkutils'); "
            f"pkg.__path__ = [{pkg_dir!r}]; sys.modules['ntkutils'] = pkg\n")
    env = dict(os.environ, PYTHONHASHSEED="12345", MPLBACKEND="Agg",
               NTK_REPRO_FIGURES_DIR=str(tmp_path / "child"))
    subprocess.run([sys.executable, "-c", stub + _PROC_SCRIPT], env=env, capture_output=True,
                   text=True, timeout=120, check=True)
    monkeypatch.setenv("NTK_REPRO_FIGURES_DIR", str(tmp_path / "parent"))
    exec(compile(_PROC_SCRIPT, "<proc>", "exec"), {})
    for ext in ("pdf", "png"):
        child = (tmp_path / "child" / f"proc.{ext}").read_bytes()
        parent = (tmp_path / "parent" / f"proc.{ext}").read_bytes()
        assert hashlib.sha256(child).hexdigest() == hashlib.sha256(parent).hexdigest(), ext


@pytest.mark.parametrize("name", ["", "a/b", "../up", "a\\b", ".hidden", "fig.pdf", "fig.PNG",
                                  "with space", None, 3])
def test_bad_names_raise(fig_dir: Path, name) -> None:
    fig = Figure()
    with pytest.raises(ValueError, match="name"):
        save_figure(fig, name)  # type: ignore[arg-type]
    assert not fig_dir.exists()


def test_not_a_figure_raises(fig_dir: Path) -> None:
    with pytest.raises(ValueError, match="Figure"):
        save_figure("fig", "ok")  # type: ignore[arg-type]


def test_atomic_save_keeps_old_file(fig_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = save_figure(_figure(), "keep")
    old = paths["pdf"].read_bytes()

    def boom(src, dst):
        raise OSError("interrupted")

    monkeypatch.setattr(os, "replace", boom)
    fig = _figure()
    fig.axes[0].set_title("new")
    with pytest.raises(OSError, match="interrupted"):
        save_figure(fig, "keep")
    assert paths["pdf"].read_bytes() == old
    assert sorted(p.name for p in fig_dir.iterdir()) == ["keep.pdf", "keep.png"]


def test_house_style() -> None:
    use_house_style()
    assert mpl.rcParams["text.usetex"] is False
    assert mpl.rcParams["font.family"] == ["sans-serif"]
    colours = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    assert colours == list(OKABE_ITO)
    mpl.rcParams["font.size"] = 7.0
    with house_style():
        assert mpl.rcParams["font.size"] == HOUSE_STYLE["font.size"]
    assert mpl.rcParams["font.size"] == 7.0


def test_band_plot() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    x = np.arange(4.0)
    line = band_plot(ax, x, x**2, np.full(4, 0.5), label="mean", k=2.0)
    np.testing.assert_array_equal(line.get_ydata(), x**2)
    (band,) = ax.collections
    verts = band.get_paths()[0].vertices
    assert verts[:, 1].max() == pytest.approx(9.0 + 1.0)
    assert verts[:, 1].min() == pytest.approx(0.0 - 1.0)
    with pytest.raises(ValueError, match="std"):
        band_plot(ax, x, x, -np.ones(4))
    with pytest.raises(ValueError, match="equal length"):
        band_plot(ax, x, x, np.ones(3))


def test_loglog_with_fit_line_and_legend() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    x = np.array([10.0, 100.0, 1000.0])
    y = 2.0 * x**-1.0 * np.array([1.0, 1.05, 0.97])
    fit = loglog_slope(x, y, n_boot=200)
    points, line = loglog_with_fit(ax, x, y, fit, label="data")
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    xs, ys = line.get_data()
    np.testing.assert_allclose(ys, np.exp(fit.intercept) * xs**fit.slope)
    assert xs.min() == pytest.approx(10.0) and xs.max() == pytest.approx(1000.0)
    assert f"{fit.slope:.2f}" in line.get_label() and "[" in line.get_label()
    assert points.get_label() == "data"


def test_positive_errorbar_does_not_draw_nonpositive_values_as_data() -> None:
    from ntkutils.plotting import positive_errorbar

    fig = Figure()
    ax = fig.add_subplot()
    ax.set_yscale("log")
    line = positive_errorbar(ax, [1, 2, 3, 4], [1e-3, -2e-5, 4e-4, 0.0], [5e-3, 1e-5, 1e-4, 1e-5], label="a")
    assert list(line.get_xdata()) == [1, 3] and list(line.get_ydata()) == [1e-3, 4e-4]
    markers = [l for l in ax.get_lines() if l.get_marker() == "v"]
    assert len(markers) == 1 and list(markers[0].get_xdata()) == [2, 4]
    # the lower error bar is clipped above zero, so a log axis can draw it
    segments = [c for c in ax.collections][0].get_segments()
    assert all(seg[:, 1].min() > 0 for seg in segments)
    with pytest.raises(ValueError, match="equal length"):
        positive_errorbar(ax, [1, 2], [1.0], [0.1])


# ---------------------------------------------------------------- recurring panels and layout
def _panel_figure(**kw):
    from matplotlib.figure import Figure

    fig = Figure(figsize=kw.pop("figsize", (4.0, 3.0)), layout="constrained")
    return fig, fig.add_subplot()


def test_slope_panel_draws_fit_guides_and_an_outside_legend():
    from ntkutils.plotting import layout_problems, layout_report, slope_panel
    from ntkutils.stats import loglog_slope_t

    x = np.array([64, 128, 256, 512])
    rng = np.random.default_rng(0)
    y = 3.0 * x[:, None] ** -0.5 * np.exp(0.05 * rng.standard_normal((4, 5)))
    fit = loglog_slope_t(x, y, ci=0.99)
    fig, ax = _panel_figure(figsize=(6.0, 3.0))
    slope_panel(ax, x, y, fit, label="data", guides=(-0.5, -1.0), ylabel="error")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "data" in labels and "$n^{-0.5}$" in labels and "$n^{-1}$" in labels
    assert any(label.startswith("fit: slope -0.") for label in labels)
    assert ax.get_xscale() == ax.get_yscale() == "log" and ax.get_xlabel() == "width n"
    # the legend sits right of the axes: it does not cover the data
    assert layout_problems(layout_report(fig)) == []          # (also gives the figure a canvas)
    renderer = fig.canvas.get_renderer()
    assert ax.get_legend().get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    # guides start at the first mean and have the stated slopes
    guide = ax.lines[-1].get_ydata()
    assert guide[0] == pytest.approx(y[0].mean()) and guide[-1] / guide[0] == pytest.approx((512 / 64) ** -1.0)
    assert layout_problems(layout_report(fig)) == []


def test_percentile_band_is_the_percentiles_with_an_outline():
    from ntkutils.plotting import percentile_band

    rng = np.random.default_rng(1)
    samples = rng.standard_normal((6, 1001))
    fig, ax = _panel_figure()
    line = percentile_band(ax, np.arange(6), samples, q=(10, 90), hatch="////", label="a")
    assert np.allclose(line.get_ydata(), np.median(samples, axis=1))
    band = ax.collections[-1]
    verts = band.get_paths()[0].vertices[:, 1]
    assert verts.min() == pytest.approx(np.percentile(samples, 10, axis=1).min())
    assert verts.max() == pytest.approx(np.percentile(samples, 90, axis=1).max())
    assert band.get_hatch() == "////" and band.get_linewidth()[0] > 0
    with pytest.raises(ValueError, match="samples"):
        percentile_band(ax, np.arange(5), samples)
    with pytest.raises(ValueError, match="q must"):
        percentile_band(ax, np.arange(6), samples, q=(90, 10))


def test_layout_problems_catch_overlapping_ticks_and_text_off_canvas():
    from ntkutils.plotting import layout_problems, layout_report, legend_outside

    fig, ax = _panel_figure()
    ax.plot([0, 10000], [0, 1])
    assert layout_problems(layout_report(fig)) == []
    ax.set_xticks(np.arange(0, 10001, 250))                       # 41 labels on 4 inches
    assert any("overlap" in p for p in layout_problems(layout_report(fig)))
    fig2, ax2 = _panel_figure()
    ax2.plot([0, 1], [0, 1])
    ax2.text(1.5, 0.5, "far right", transform=ax2.transAxes)      # outside the canvas
    assert any("far right" in p and "outside" in p for p in layout_problems(layout_report(fig2)))
    with pytest.raises(ValueError, match="where"):
        legend_outside(ax2, where="inside")


def test_save_figure_embeds_the_layout_in_the_png(tmp_path, monkeypatch):
    import json

    from PIL import Image

    from ntkutils.plotting import LAYOUT_KEY, layout_problems

    monkeypatch.setenv("NTK_REPRO_FIGURES_DIR", str(tmp_path))
    fig, ax = _panel_figure()
    ax.plot([1, 2], [1, 4])
    ax.set(xlabel="x", ylabel="y")
    save_figure(fig, "layout")
    report = json.loads(Image.open(tmp_path / "layout.png").info[LAYOUT_KEY])
    assert {t["text"] for t in report["texts"]} >= {"x", "y"} and layout_problems(report) == []
