"""Test-wide settings: no progress bars, no writes into the repository, a non-GUI backend."""

import os

os.environ.setdefault("NTK_REPRO_QUIET", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
