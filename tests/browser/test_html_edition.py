"""The HTML edition as a reader sees it: headless Chromium opens the index and one notebook page
from file://, with every host name unresolvable (so a remote reference would fail and show).

Needs the Debian packages ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``,
``/usr/bin/chromedriver``) and ``selenium``; skipped without them. Not part of ``make test``
(``tests/conftest.py`` leaves this folder out of ``pytest tests``): ``make test-html`` runs it,
and ``.ci/run`` calls that after installing the browser. Selenium Manager never runs: the driver
and the browser are given by path.
"""

from __future__ import annotations

import json
import shutil
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REPO = Path(__file__).resolve().parents[2]
WINDOW = (1400, 1000)
MIN_SCREENSHOT_BYTES = 20_000
NOTEBOOK = "01_gp_at_initialization"

if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
    pytest.skip(f"needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver; "
                f"`make test-html` in .ci/run installs them)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed "
                                "(pip install -r requirements.txt)")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

from ntkutils import runner  # noqa: E402
from ntkutils.claims import FAIL, NOT_ASSESSED, PASS  # noqa: E402

# Every image loaded with pixels, and after MathJax's first typeset of the page.
_ALL_IMAGES_LOADED = """return Array.from(document.images).map(
    img => [img.getAttribute('src').slice(0, 80), img.complete, img.naturalWidth]);"""
_MATHJAX_DONE = """const done = arguments[arguments.length - 1];
if (!window.MathJax || !MathJax.Hub) { done('no MathJax'); return; }
// The hook must not return the queued callback: the startup signal would wait on the queue
// that waits on it.
MathJax.Hub.Register.StartupHook('End', () => {
  MathJax.Hub.Queue(() => { done('typeset'); });
});"""


@pytest.fixture(scope="module")
def edition(tmp_path_factory: pytest.TempPathFactory) -> runner.HtmlEdition:
    return runner.build_html_edition(tmp_path_factory.mktemp("html") / "html")


@pytest.fixture(scope="module")
def driver() -> Iterator[webdriver.Chrome]:
    profile = tempfile.mkdtemp(prefix="ntk-repro-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage",
                f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--user-data-dir={profile}",
                "--host-resolver-rules=MAP * ~NOTFOUND"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    chrome.set_page_load_timeout(60)
    chrome.set_script_timeout(60)
    try:
        yield chrome
    finally:
        chrome.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _open(driver: webdriver.Chrome, page: Path) -> None:
    driver.get(page.resolve().as_uri())
    assert driver.execute_async_script(_MATHJAX_DONE) == "typeset"


def _assert_nothing_failed(driver: webdriver.Chrome) -> None:
    images = driver.execute_script(_ALL_IMAGES_LOADED)
    assert images, "no images on the page"
    broken = [src for src, complete, width in images if not (complete and width > 0)]
    assert not broken, f"images that did not load: {broken}"
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"the browser reported errors (a file that failed to load?): {errors}"
    math_errors = driver.find_elements(By.CSS_SELECTOR, ".MathJax_Error, .merror, .noError")
    assert not math_errors, f"MathJax errors: {[e.text for e in math_errors][:5]}"


def _assert_screenshot(driver: webdriver.Chrome, path: Path) -> None:
    assert driver.save_screenshot(str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > MIN_SCREENSHOT_BYTES, f"{path.name}: {len(data)} bytes, a blank page?"
    width, height = struct.unpack(">II", data[16:24])
    viewport = driver.execute_script(
        "return [window.innerWidth * devicePixelRatio, window.innerHeight * devicePixelRatio];")
    assert (width, height) == tuple(round(v) for v in viewport)
    assert width == WINDOW[0]
    from PIL import Image  # a matplotlib dependency, pinned

    with Image.open(path) as img:
        colours = img.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is None or len(colours) > 16, f"{path.name} is (nearly) a single colour"


def _stored_claims(results_dir: Path) -> list[dict]:
    return [c for f in sorted(results_dir.glob("*.json"))
            for c in json.loads(f.read_text(encoding="utf-8"))["claims"]]


def test_index_shows_verdict_claims_figures_and_links(edition, driver, tmp_path: Path) -> None:
    _open(driver, edition.index)
    claims = _stored_claims(REPO / "results")
    counts = {s: sum(c["status"] == s for c in claims) for s in (PASS, FAIL, NOT_ASSESSED)}
    verdicts = [p.text for p in driver.find_elements(By.TAG_NAME, "p")
                if p.text.startswith("Verdict:")]
    assert len(verdicts) == 1
    assert verdicts[0].startswith(f"Verdict: {counts[PASS]} claims PASS, {counts[FAIL]} FAIL")
    assert f"{counts[NOT_ASSESSED]} NOT ASSESSED" in verdicts[0]
    infos = runner.discover()
    assert verdicts[0] == runner.readme_verdict(REPO / "results", infos).replace("`", "")

    table = driver.find_elements(By.TAG_NAME, "table")[0]
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == len(claims)
    statuses = [r.find_elements(By.TAG_NAME, "td")[7].text for r in rows]
    assert sorted(statuses) == sorted(c["status"] for c in claims)

    figures = [img for img in driver.find_elements(By.TAG_NAME, "img")
               if "/figures/" in img.get_attribute("src")]
    assert len(figures) >= len(list((REPO / "figures").glob("[0-9][0-9]_*.png")))
    _assert_nothing_failed(driver)

    hrefs = {a.get_attribute("href") for a in driver.find_elements(By.TAG_NAME, "a")}
    pages = {Path(unquote(urlparse(h).path)) for h in hrefs
             if h and h.startswith("file:") and urlparse(h).path.endswith(".html")}
    assert {edition.out.resolve() / f"{i.stem}.html" for i in infos} <= pages
    missing = [str(p) for p in pages if not p.is_file()]
    assert not missing, f"links to pages that do not exist: {missing}"
    _assert_screenshot(driver, tmp_path / "index.png")


def test_notebook_page_shows_figures_and_typeset_math(edition, driver, tmp_path: Path) -> None:
    _open(driver, edition.out / f"{NOTEBOOK}.html")
    nb = nbformat.read(REPO / "notebooks" / f"{NOTEBOOK}.ipynb", as_version=4)
    n_png = sum("image/png" in out.get("data", {}) for cell in nb.cells
                for out in cell.get("outputs", []))
    loaded = [img for img in driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea img")
              if driver.execute_script("return arguments[0].naturalWidth;", img) > 0]
    assert n_png > 0 and len(loaded) >= n_png
    assert driver.execute_script("return typeof window.MathJax;") == "object"
    math = driver.find_elements(By.CSS_SELECTOR, ".MathJax, .MathJax_Display, mjx-container")
    assert len(math) > 10
    assert driver.execute_script('return MathJax.OutputJax["HTML-CSS"].fontInUse;') == "STIX-Web"
    _assert_nothing_failed(driver)
    back = driver.find_element(By.PARTIAL_LINK_TEXT, "all notebooks and claims")
    assert Path(unquote(urlparse(back.get_attribute("href")).path)) == edition.index.resolve()
    _assert_screenshot(driver, tmp_path / "notebook.png")

