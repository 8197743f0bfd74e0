"""Where results and figures go, and how files are written there.

A leaf module: it imports nothing else from ``ntkutils``.

Two kinds of place. The *stored* results, the ones the README table and a citation point to,
are written only by ``make reproduce`` or ``ntk-repro run --store``:

* ``stored_results_dir(profile)``: ``<repo>/results`` (``default``), ``<repo>/results/paper``
  (``paper``); ``stored_figures_dir(profile)``: ``<repo>/figures``, ``<repo>/figures/paper``.

Every other run (another profile, other parameters, a notebook run by hand in Jupyter or by
papermill) writes where the environment says, else under ``outputs/`` (git-ignored):

* ``results_dir(profile)``: ``$NTK_REPRO_RESULTS_DIR`` if set (and non-empty), else
  ``<repo>/outputs/<profile>/results``;
* ``figures_dir(profile)``: ``$NTK_REPRO_FIGURES_DIR`` if set (and non-empty), else
  ``<repo>/outputs/<profile>/figures``.

``<repo>`` is the parent of the ``ntkutils`` package directory. ``ntk-repro run --store`` points
the two variables at the stored places; tests point them at a temporary directory. The
directories are not created here; the writers (``ClaimSet.write``, ``save_figure``) create them
when they write.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

RESULTS_ENV = "NTK_REPRO_RESULTS_DIR"
FIGURES_ENV = "NTK_REPRO_FIGURES_DIR"


def repo_root() -> Path:
    """Locate the repository root.

    Returns:
        The parent of the ``ntkutils`` package directory, as an absolute ``Path``.
    """
    return Path(__file__).resolve().parent.parent


def _from_env(var: str, default: Path) -> Path:
    value = os.environ.get(var, "")
    if value.strip() == "":
        return default
    return Path(value).expanduser()


STORED_PROFILES = ("default", "paper")


def _stored(kind: str, profile: str) -> Path:
    if profile not in STORED_PROFILES:
        raise ValueError(f"profile must be one of {list(STORED_PROFILES)} for stored {kind} "
                         f"(a {profile!r} run is never stored; it goes under outputs/), "
                         f"got {profile!r}")
    base = repo_root() / kind
    return base if profile == "default" else base / profile


def stored_results_dir(profile: str = "default") -> Path:
    """Where the stored results of a profile live (what the README and citations point to).

    Args:
        profile: ``"default"`` or ``"paper"``.

    Returns:
        ``<repo>/results`` or ``<repo>/results/paper``.

    Raises:
        ValueError: another profile (``smoke`` runs are never stored).
    """
    return _stored("results", profile)


def stored_figures_dir(profile: str = "default") -> Path:
    """Where the stored figures of a profile live.

    Args:
        profile: ``"default"`` or ``"paper"``.

    Returns:
        ``<repo>/figures`` or ``<repo>/figures/paper``.

    Raises:
        ValueError: another profile.
    """
    return _stored("figures", profile)


def scratch_dir(profile: str | None = None) -> Path:
    """``<repo>/outputs/<profile>`` (``<repo>/outputs`` without a profile): where runs that do
    not store go. Git-ignored."""
    base = repo_root() / "outputs"
    return base if profile is None else base / profile


def results_dir(profile: str | None = None) -> Path:
    """Directory for ``<notebook>.json`` claim files of the run in progress.

    Args:
        profile: the run's profile (names the folder under ``outputs/``).

    Returns:
        ``$NTK_REPRO_RESULTS_DIR`` (user-expanded) if set and non-blank, else
        ``<repo>/outputs/<profile>/results``. The directory is not created here.
    """
    return _from_env(RESULTS_ENV, scratch_dir(profile) / "results")


def figures_dir(profile: str | None = None) -> Path:
    """Directory for ``<name>.pdf``/``<name>.png`` figures of the run in progress.

    Args:
        profile: the run's profile (names the folder under ``outputs/``).

    Returns:
        ``$NTK_REPRO_FIGURES_DIR`` (user-expanded) if set and non-blank, else
        ``<repo>/outputs/<profile>/figures``. The directory is not created here.
    """
    return _from_env(FIGURES_ENV, scratch_dir(profile) / "figures")


def shown_path(path: str | os.PathLike[str]) -> str:
    """``path`` for messages: relative to the repository when it lies inside it, else absolute."""
    full = Path(path).resolve()
    try:
        return full.relative_to(repo_root()).as_posix()
    except ValueError:
        return str(full)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    The bytes go to a temporary file in the same directory (so the final rename never crosses
    a file system), are flushed and fsync'ed, and the file is moved into place with
    ``os.replace``. A reader therefore sees either the old file or the complete new one, never a
    partial write; on any error the temporary file is removed and the old file is untouched.
    The parent directory is created if missing.

    Args:
        path: destination file.
        data: the complete new contents.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        OSError: the directory or file cannot be written (the old file is left untouched).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates files with mode 0600; give the result ordinary permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    return target
