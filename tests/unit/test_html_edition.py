"""ntkutils.runner.html_edition without a browser: the edition of the stored notebooks has a page
per notebook, an index with the verdict line and one table row per stored claim, no remote
reference, every local reference resolved, and the same bytes when built twice (zip included).
tests/browser/test_html_edition.py opens it in Chromium."""

from __future__ import annotations

import contextlib
import io
import json
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from bs4 import BeautifulSoup

from ntkutils import cli, runner
from ntkutils.paths import repo_root

REPO = repo_root()
# Tags whose src/href the browser loads by itself (an <a href> is only followed when clicked).
_LOADED = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src",
           "video": "src", "audio": "src", "embed": "src", "object": "data"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> runner.HtmlEdition:
    base = tmp_path_factory.mktemp("edition")
    return runner.build_html_edition(base / "html", zip_path=base / "ntk-repro-html.zip")


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _stored_claims() -> list[dict]:
    return [c for f in sorted((REPO / "results").glob("*.json"))
            for c in json.loads(f.read_text(encoding="utf-8"))["claims"]]


def test_a_page_per_notebook_with_its_figures_and_a_link_home(built) -> None:
    infos = runner.discover()
    assert [p.name for p in built.pages] == [f"{i.stem}.html" for i in infos]
    for info, page in zip(infos, built.pages):
        soup = _soup(page)
        n_png = info.path.read_text(encoding="utf-8").count('"image/png"')
        assert len(soup.select(".jp-OutputArea img")) >= n_png, page.name
        assert soup.find("a", href="index.html"), page.name
        assert soup.title.string == info.title
    assert "MANIFEST.txt" in built.files and "mathjax/MathJax.js" in built.files


def test_index_has_the_verdict_one_row_per_claim_and_links_to_every_page(built) -> None:
    soup = _soup(built.index)
    infos = runner.discover()
    verdict = runner.readme_verdict(REPO / "results", infos).replace("`", "")
    assert verdict in [p.get_text() for p in soup.find_all("p")]
    claims = _stored_claims()
    rows = soup.find_all("table")[0].select("tbody tr")
    assert len(rows) == len(claims)
    assert [r.find_all("td")[7].get_text() for r in rows] == [c["status"] for c in claims]
    hrefs = {a["href"] for a in soup.find_all("a", href=True)}
    assert {f"{i.stem}.html" for i in infos} <= hrefs
    shown = {img["src"] for img in soup.find_all("img")}
    assert {f"figures/{p.name}" for p in (REPO / "figures").glob("[0-9][0-9]_*.png")} <= shown
    # the provenance of each stored run: one row per notebook, with its commit
    provenance = soup.find_all("table")[1].select("tbody tr")
    assert len(provenance) == len(infos)
    for row, info in zip(provenance, infos):
        commit = json.loads((REPO / "results" / f"{info.stem}.json").read_text(
            encoding="utf-8"))["provenance"]["git"]["commit"]
        assert row.find_all("td")[1].get_text() == commit[:12]
    paper = sorted((REPO / "results" / "paper").glob("*.json"))
    if paper:  # the paper runs: their claims, then their provenance, marked where outside the pins
        bodies = [json.loads(f.read_text(encoding="utf-8")) for f in paper]
        assert len(soup.find_all("table")[2].select("tbody tr")) == sum(len(b["claims"]) for b in bodies)
        rows = soup.find_all("table")[3].select("tbody tr")
        assert len(rows) == len(paper)
        unpinned = sum(not b["provenance"]["pins"]["match"] for b in bodies)
        assert sum("not the pinned environment" in r.get_text() for r in rows) == unpinned


def test_nothing_remote_and_every_local_reference_exists(built) -> None:
    for name in built.files:
        if not name.endswith(".html"):
            continue
        page = built.out / name
        soup = _soup(page)
        for tag, attr in _LOADED.items():
            for element in soup.find_all(tag):
                target = element.get(attr)
                if not target or target.startswith(("data:", "#")):
                    continue
                assert not re.match(r"^(https?:)?//", target), f"{name}: <{tag} {attr}={target!r}>"
                local = page.parent / unquote(urlparse(target).path)
                assert local.is_file(), f"{name}: <{tag} {attr}={target!r}> does not exist"
        for a in soup.find_all("a", href=True):  # local links too (remote ones are fine)
            href = a["href"]
            if href.startswith(("http://", "https://", "#", "mailto:")):
                continue
            assert (page.parent / unquote(urlparse(href).path)).is_file(), f"{name}: {href!r}"
        for style in soup.find_all("style"):
            assert not re.search(r"(@import|url\()\s*['\"]?(https?:)?//", style.get_text()), name
        for script in soup.find_all("script"):
            assert not re.search(r"import\(\s*['\"](https?:)?//", script.get_text()), name


def test_same_input_same_bytes_and_the_cli(built, tmp_path: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["html", "--out", str(tmp_path / "html"), "--zip"]) == 0
    assert str(tmp_path / "html" / "index.html") in out.getvalue()
    manifest = (tmp_path / "html" / "MANIFEST.txt").read_bytes()
    assert manifest == (built.out / "MANIFEST.txt").read_bytes()
    assert (tmp_path / "ntk-repro-html.zip").read_bytes() == built.zip_path.read_bytes()
    with zipfile.ZipFile(built.zip_path) as zf:
        assert zf.namelist() == [f"ntk-repro-html/{n}" for n in built.files]


def test_manifest_lists_every_other_file_with_its_hash(built) -> None:
    import hashlib

    lines = (built.out / "MANIFEST.txt").read_text(encoding="utf-8").splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    assert sorted(listed) == [f for f in built.files if f != "MANIFEST.txt"]
    for name in ("index.html", "mathjax/MathJax.js"):
        assert listed[name] == hashlib.sha256((built.out / name).read_bytes()).hexdigest()


def test_out_must_be_a_folder_for_the_edition(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me")
    with pytest.raises(ValueError, match="out must be a folder"):
        runner.build_html_edition(a_file)
    with pytest.raises(ValueError, match="out must be new, empty or an earlier HTML edition"):
        runner.build_html_edition(tmp_path)
    assert a_file.read_text() == "keep me"
    with pytest.raises(ValueError, match="zip_path"):
        runner.build_html_edition(tmp_path / "html", zip_path=tmp_path / "html" / "a.zip")
    assert cli.main(["html", "--out", str(a_file)]) == 2


def test_readme_table_links_elsewhere_only_when_asked() -> None:
    infos = runner.discover()
    plain = runner.readme_table(REPO / "results", infos)
    linked = runner.readme_table(REPO / "results", infos, notebook_link=lambda i: f"{i.stem}.html")
    assert runner.readme_table(REPO / "results", infos, notebook_link=None) == plain
    for info in infos:
        assert f"](notebooks/{info.stem}.ipynb)" in plain
        assert f"]({info.stem}.html)" in linked
    assert linked == re.sub(r"\]\(notebooks/(\w+)\.ipynb\)", r"](\1.html)", plain)
