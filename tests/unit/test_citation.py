"""CITATION.cff agrees with the package and names every paper the notebooks reproduce; the
README's "How to cite" shows the same version."""

from __future__ import annotations

import datetime as dt
import re

import yaml

from ntkutils import runner
from ntkutils.paths import repo_root
from ntkutils.provenance import suite_version


def _citation() -> dict:
    return yaml.safe_load((repo_root() / "CITATION.cff").read_text(encoding="utf-8"))


def test_citation_version_and_date() -> None:
    cff = _citation()
    assert cff["cff-version"] == "1.2.0"
    assert str(cff["version"]) == suite_version()
    released = cff["date-released"]
    released = released if isinstance(released, dt.date) else dt.date.fromisoformat(released)
    assert dt.date(2026, 1, 1) <= released <= dt.date.today()
    assert "commit" in cff["message"]


def test_every_reproduced_paper_is_a_reference() -> None:
    cff = _citation()
    ids = {i["value"] for ref in cff["references"] for i in ref.get("identifiers", [])}
    surnames = {a.get("family-names") for ref in cff["references"] for a in ref["authors"]}
    for info in runner.discover():
        for arxiv in re.findall(r"arXiv:\d{4}\.\d{4,5}", info.paper):
            assert arxiv in ids, f"{info.stem} cites {arxiv}, missing from CITATION.cff"
        for name in re.findall(r"\b(Neal|Bietti|Basri|Matthews|Jacot|Lee|Hanin|Nica|Roberts|Yaida|Woodworth|Chizat|Oyallon|Bach|Geiger|Zhang|Arora|Belkin|Du|Zhai|Poczos|Singh|Ali|Kolter|Tibshirani|Greydanus)\b", info.paper):
            assert name in surnames, f"{info.stem} cites {name}, missing from CITATION.cff"


def test_readme_how_to_cite_shows_this_version() -> None:
    text = (repo_root() / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## How to cite"):]
    assert f"version {suite_version()}" in section and f"version = {{{suite_version()}}}" in section
