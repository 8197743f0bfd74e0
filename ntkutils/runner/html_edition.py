"""The HTML edition: the stored notebooks and an index page as a static folder that opens
offline (``ntk-repro html``, ``make html``).

Everything is rendered by nbconvert's ``HTMLExporter`` (lab template):

* every ``notebooks/NN_name.ipynb`` (``discover``) becomes ``NN_name.html``, with its stored
  outputs and inline figures and a link back to the index (a Markdown cell prepended to an
  in-memory copy; the notebook file is not touched); an executed ``paper`` run stored as
  ``results/paper/NN_name.ipynb`` becomes ``NN_name_paper.html``;
* ``index.html`` is an in-memory notebook of Markdown cells: the verdict line and the claims
  table of the README (``readme_verdict``, ``readme_table``, linking the pages above), the
  figures (copied into ``figures/``), and the ``paper`` runs when ``results/paper/*.json`` exist.

Offline: the template drops require.js, the widget loader and mermaid (no notebook here uses
them) and loads MathJax 2.7 from ``mathjax/``, a copy of the files that the
``jupyter-server-mathjax`` package ships (its fonts are STIX-Web, hence the config block).
``MANIFEST.txt`` lists every file with its SHA-256 (``sha256sum -c MANIFEST.txt``); the same
inputs give the same bytes, and ``zip_path`` packs the folder for archiving (e.g. with a DOI).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from .. import paths
from .discovery import NotebookInfo, default_notebooks_dir, discover
from .report import provenance_table, readme_table, readme_verdict

__all__ = ["HtmlEdition", "build_html_edition", "default_html_dir"]

MANIFEST = "MANIFEST.txt"
INDEX = "index.html"
MATHJAX_DIR = "mathjax"
FIGURES_DIR = "figures"
ZIP_ROOT = "ntk-repro-html"
_MATHJAX_URL = f"{MATHJAX_DIR}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"

# The lab template without its remote scripts. MathJax uses the one web font the local copy has
# (STIX-Web); its font probe MathJax_Blank (url('about:blank'), refused on file://) becomes a
# local() font that never loads, as before but without a request; the hidden MathML for screen
# readers keeps the page's math font instead of the TeX web fonts, which are not shipped.
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({"HTML-CSS": {
  availableFonts: [], preferredFont: null, imageFont: null, webFont: "STIX-Web",
  styles: {"@font-face": {"font-family": "MathJax_Blank", src: "local('MathJax_Blank')"}}}});
</script>
<style type="text/css">
.MJX_Assistive_MathML [mathvariant] { font-family: math !important; }
</style>
{{ super() }}
{%- endblock html_head_js_mathjax -%}
"""


@dataclass(frozen=True)
class HtmlEdition:
    """What ``build_html_edition`` wrote.

    Attributes:
        out: the folder.
        index: ``<out>/index.html``.
        pages: the notebook pages, in the order of the index.
        files: every file of the edition, relative to ``out``, sorted (MANIFEST.txt lists the
            others).
        zip_path: the archive, when one was asked for.
    """

    out: Path
    index: Path
    pages: tuple[Path, ...]
    files: tuple[str, ...]
    zip_path: Path | None = None


def default_html_dir() -> Path:
    """``<repo>/build/html`` (git-ignored)."""
    return paths.repo_root() / "build" / "html"


def build_html_edition(out: str | os.PathLike[str] | None = None, *,
                       notebooks_dir: str | os.PathLike[str] | None = None,
                       results_dir: str | os.PathLike[str] | None = None,
                       figures_dir: str | os.PathLike[str] | None = None,
                       zip_path: str | os.PathLike[str] | None = None) -> HtmlEdition:
    """Render the stored notebooks and an index page into a static, offline folder.

    The folder is built beside ``out`` and then moved into place, so ``out`` is either the old
    edition or the complete new one.

    Args:
        out: the folder (default: ``default_html_dir()``); new, empty, or an earlier edition
            (it has ``MANIFEST.txt``), which is replaced.
        notebooks_dir: the notebooks (default: ``discover``'s).
        results_dir: the stored results (default: ``paths.stored_results_dir("default")``);
            ``<results_dir>/paper`` holds the ``paper`` runs.
        figures_dir: the stored figures (default: ``paths.stored_figures_dir("default")``);
            ``<figures_dir>/paper`` those of the ``paper`` runs.
        zip_path: also write the folder to this zip file (entries under ``ntk-repro-html/``).

    Returns:
        The edition's paths.

    Raises:
        ValueError: ``out`` is a file or a non-empty folder that is not an edition, or
            ``zip_path`` is inside ``out`` or an existing folder; no notebooks found.
    """
    target = Path(out) if out is not None else default_html_dir()
    _check_out(target)
    archive = Path(zip_path) if zip_path is not None else None
    if archive is not None and (archive.is_dir()
                                or archive.resolve().is_relative_to(target.resolve())):
        raise ValueError(f"zip_path must be a file outside out, got {str(archive)!r}")
    infos = discover(notebooks_dir)
    if not infos:
        raise ValueError(f"notebooks_dir has no NN_name.ipynb notebooks, got "
                         f"{str(notebooks_dir or default_notebooks_dir())!r}")
    res_dir = Path(results_dir) if results_dir is not None else paths.stored_results_dir("default")
    fig_dir = Path(figures_dir) if figures_dir is not None else paths.stored_figures_dir("default")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    tmp.chmod(0o755)  # mkdtemp's 0o700 would stay on the edition
    try:
        _write_edition(tmp, infos, res_dir, fig_dir)
        _replace_dir(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    files = tuple(_list_files(target))
    if archive is not None:
        _write_zip(target, files, archive)
    return HtmlEdition(out=target, index=target / INDEX,
                       pages=tuple(target / f"{info.stem}.html" for info in infos),
                       files=files, zip_path=archive)


def _check_out(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise ValueError(f"out must be a folder (new, empty or an earlier HTML edition), "
                         f"got {str(target)!r}, which is a file")
    if target.is_dir() and any(target.iterdir()) and not (target / MANIFEST).is_file():
        raise ValueError(f"out must be new, empty or an earlier HTML edition (with {MANIFEST}), "
                         f"got {str(target)!r}, a folder with other files; it is not overwritten")


def _write_edition(out: Path, infos: Sequence[NotebookInfo], res_dir: Path, fig_dir: Path) -> None:
    exporter = _exporter()
    for info in infos:
        _write_page(exporter, info.path, out / f"{info.stem}.html", info.title)
    paper = [i for i in infos if (res_dir / "paper" / f"{i.stem}.json").is_file()]
    paper_pages = {i.stem for i in paper if (res_dir / "paper" / f"{i.stem}.ipynb").is_file()}
    for info in paper:
        if info.stem in paper_pages:
            _write_page(exporter, res_dir / "paper" / f"{info.stem}.ipynb",
                        out / f"{info.stem}_paper.html", f"{info.title} (profile: paper)")
    _copy_figures(fig_dir, out / FIGURES_DIR, infos)
    _copy_figures(fig_dir / "paper", out / FIGURES_DIR / "paper", paper)
    index = _index_notebook(out, infos, res_dir, paper, paper_pages)
    _write_text(out / INDEX, _export(exporter, index, "index"))
    shutil.copytree(_mathjax_source(), out / MATHJAX_DIR)
    manifest = "".join(f"{_sha256(out / name)}  {name}\n" for name in _list_files(out))
    _write_text(out / MANIFEST, manifest)


def _exporter() -> Any:
    from nbconvert import HTMLExporter  # slow to import: only when an edition is built

    exporter = HTMLExporter(template_name="lab")
    exporter.raw_template = _TEMPLATE
    exporter.mathjax_url = _MATHJAX_URL
    return exporter


def _export(exporter: Any, nb: nbformat.NotebookNode, name: str) -> str:
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": name}})
    return body


def _write_page(exporter: Any, source: Path, dest: Path, title: str) -> None:
    nb = nbformat.read(source, as_version=4)
    back = nbformat.v4.new_markdown_cell(f"[← ntk-repro: all notebooks and claims]({INDEX})",
                                         id="ntk-repro-index-link")
    nb.cells.insert(0, back)
    nb.metadata["title"] = title
    _write_text(dest, _export(exporter, nb, dest.stem))


def _copy_figures(src: Path, dest: Path, infos: Sequence[NotebookInfo]) -> None:
    for info in infos:
        for png in sorted(src.glob(f"{info.stem}_*.png")):
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(png, dest / png.name)


def _index_notebook(out: Path, infos: Sequence[NotebookInfo], res_dir: Path,
                    paper: Sequence[NotebookInfo], paper_pages: set[str]) -> nbformat.NotebookNode:
    contents = "\n".join(f"- [{i.number:02d} · {i.title}]({i.stem}.html)"
                         + (f" — {i.paper}" if i.paper else "") for i in infos)
    texts = [
        "# ntk-repro: Neural Tangent Kernel theory, reproduced",
        "The stored notebooks of ntk-repro with their outputs and "
        "figures, as static pages that need no Jupyter and no network. Each notebook checks "
        "papers' claims against numbers computed in the run; the table below lists every "
        "claim with what was expected, what was measured, and whether it passed.\n\n"
        f"**{readme_verdict(res_dir, infos)}**",
        "## The notebooks\n\n" + contents,
        "## Claims of the stored `default` runs\n\n"
        + readme_table(res_dir, infos, figures_dir=out / FIGURES_DIR, link_base=out,
                       notebook_link=lambda i: f"{i.stem}.html"),
        "## Where the numbers came from\n\n"
        "Each results file records its provenance; cite the commit with the suite's version "
        "(see `CITATION.cff`).\n\n" + provenance_table(res_dir, infos),
    ]
    if paper:
        texts.append(
            "## Runs at the papers' sizes (profile `paper`)\n\n"
            "Notebooks also run at the sizes of the papers (GPU or long CPU runs). A title links "
            "the executed `paper` notebook where one is stored, else the `default` one.\n\n"
            + readme_table(res_dir / "paper", paper, figures_dir=out / FIGURES_DIR / "paper",
                           link_base=out, notebook_link=lambda i: f"{i.stem}_paper.html"
                           if i.stem in paper_pages else f"{i.stem}.html")
            + "\n\n" + provenance_table(res_dir / "paper", paper))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(t, id=f"index-{k}") for k, t in enumerate(texts)]
    nb.metadata["title"] = "ntk-repro: claims and notebooks"
    return nb


def _mathjax_source() -> Path:
    import jupyter_server_mathjax  # ships MathJax 2.7 (see requirements.in)

    static = Path(jupyter_server_mathjax.__file__).resolve().parent / "static"
    if not (static / "MathJax.js").is_file():
        raise FileNotFoundError(f"MathJax.js not found in {static}; "
                                "reinstall jupyter-server-mathjax")
    return static


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _list_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``; an existing ``target`` (checked by ``_check_out``) goes."""
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
        new.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        new.rename(target)


def _write_zip(root: Path, files: Sequence[str], archive: Path) -> None:
    """A zip of ``files`` with fixed dates and modes, so the same edition gives the same bytes."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_name(f".{archive.name}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in files:
            info = zipfile.ZipInfo(f"{ZIP_ROOT}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, (root / name).read_bytes())
    os.replace(tmp, archive)
