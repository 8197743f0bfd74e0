"""Every stored figure is readable: no text outside the canvas, no two tick labels of one axis
overlapping. ``save_figure`` embeds each figure's text layout in its PNG (``LAYOUT_KEY``); this
test reads the stored PNGs back, so a figure re-stored with a layout problem fails here."""

import json
from pathlib import Path

import pytest
from PIL import Image

import ntkutils as nu

ROOT = Path(__file__).resolve().parents[2]
PNGS = sorted((ROOT / "figures").glob("[0-9][0-9]_*.png"))


def test_every_notebook_has_stored_figures():
    stems = {p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert stems and all(any(png.name.startswith(stem) for png in PNGS) for stem in stems)


@pytest.mark.parametrize("png", PNGS, ids=lambda p: p.stem)
def test_stored_figure_layout(png):
    info = Image.open(png).info
    assert nu.LAYOUT_KEY in info, f"{png.name} was not written by save_figure (re-run make reproduce)"
    report = json.loads(info[nu.LAYOUT_KEY])
    assert report["texts"], "a figure without any text (no axis labels?)"
    assert nu.layout_problems(report) == []
