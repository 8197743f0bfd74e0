"""Test-wide settings: no progress bars, no writes into the repository, a non-GUI backend."""

import os

os.environ.setdefault("NTK_REPRO_QUIET", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

# tests/browser opens the HTML edition in Chromium: not part of `pytest tests` (`make test`), run
# by `make test-html` (`pytest tests/browser`), which .ci/run calls after installing the browser.
collect_ignore = ["browser"]
