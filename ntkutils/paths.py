"""Where results and figures go, and how files are written there.

A leaf module: it imports nothing else from ``ntkutils``.

* ``results_dir()``: ``$NTK_REPRO_RESULTS_DIR`` if set (and non-empty), else ``<repo>/results``.
* ``figures_dir()``: ``$NTK_REPRO_FIGURES_DIR`` if set (and non-empty), else ``<repo>/figures``.

``<repo>`` is the parent of the ``ntkutils`` package directory. Tests point both variables at a
temporary directory so that they never rewrite the repository. The directories are not created
here; the writers (``ClaimSet.write``, ``save_figure``) create them when they write.
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


def results_dir() -> Path:
    """Directory for ``<notebook>.json`` claim files.

    Returns:
        ``$NTK_REPRO_RESULTS_DIR`` (user-expanded) if set and non-blank, else
        ``<repo>/results``. The directory is not created here.
    """
    return _from_env(RESULTS_ENV, repo_root() / "results")


def figures_dir() -> Path:
    """Directory for ``<name>.pdf``/``<name>.png`` figures.

    Returns:
        ``$NTK_REPRO_FIGURES_DIR`` (user-expanded) if set and non-blank, else
        ``<repo>/figures``. The directory is not created here.
    """
    return _from_env(FIGURES_ENV, repo_root() / "figures")


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
