"""Where a number came from: the provenance block of every results file.

``provenance(device)`` records, at the end of a run:

* ``suite``: the name and version of ntk-repro (``pyproject.toml``, or the installed
  distribution's metadata outside a checkout);
* ``git``: the commit of the checkout and whether the tree differed from it, with the paths
  that did (at most ``MAX_DIRTY_PATHS``). What a store itself rewrites is not counted: the
  stored results and figures, the README's generated table, and the outputs of stored
  notebooks, whose *sources* (code and Markdown cells) are compared with the commit's instead;
* ``python`` (version and implementation) and the platform;
* ``packages``: the versions of torch (``torch.__version__``, with its build tag, and its CUDA
  version, if any), numpy, scipy, matplotlib, papermill, nbformat and ipykernel;
* ``device``: the torch device, the name of the processor or GPU, the number of torch threads;
* ``pins``: whether the environment matches the lock ``requirements.txt`` (every pinned
  distribution that is installed at its pinned version, a local build tag such as ``+cpu``
  ignored, and a Python the lock is made for), with each difference and each pinned
  distribution that is missing.

A leaf module apart from ``paths``: it imports no other part of ``ntkutils``.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from .paths import repo_root

__all__ = ["PACKAGES", "SUPPORTED_PYTHONS", "MAX_DIRTY_PATHS", "provenance", "suite_version",
           "git_state", "device_description", "pin_report", "environment_note"]

PACKAGES = ("torch", "numpy", "scipy", "matplotlib", "papermill", "nbformat", "ipykernel")
SUPPORTED_PYTHONS = ((3, 11, 5), (3, 13))   # the lock's range: 3.11.5 to 3.13.x
MAX_DIRTY_PATHS = 20
# Written by `make reproduce` / `ntk-repro run --store` / `ntk-repro report`: not a change to
# the code that made the numbers.
_STORE_WRITES = ("results/", "figures/", "outputs/", "build/", "README.md")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def suite_version() -> str:
    """The version of ntk-repro.

    Returns:
        ``project.version`` of the checkout's ``pyproject.toml``; outside a checkout, the
        installed ``ntk-repro`` distribution's version; ``"unknown"`` if neither exists.
    """
    pyproject = repo_root() / "pyproject.toml"
    if pyproject.exists():
        import tomllib
        with open(pyproject, "rb") as fh:
            version = tomllib.load(fh).get("project", {}).get("version")
        if isinstance(version, str):
            return version
    return _version("ntk-repro") or "unknown"


def _git(*args: str, root: Path) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _notebook_sources(text: str) -> list[tuple[str, str]]:
    """(cell type, source) of every cell: what a notebook *is*, without its outputs."""
    cells = json.loads(text).get("cells", [])
    return [(c.get("cell_type", ""),
             "".join(c["source"]) if isinstance(c.get("source"), list) else str(c.get("source")))
            for c in cells]


def _counts_as_change(path: str, root: Path) -> bool:
    """Whether a path that git reports as changed changes the code that made the numbers."""
    if path.startswith(_STORE_WRITES):
        return False
    if path.startswith("notebooks/") and path.endswith(".ipynb"):
        committed = _git("show", f"HEAD:{path}", root=root)
        try:
            now = (root / path).read_text(encoding="utf-8")
            return committed is None or _notebook_sources(now) != _notebook_sources(committed)
        except (OSError, ValueError):
            return True
    return True


def git_state(root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The commit of a checkout and whether the tree differs from it.

    Args:
        root: the checkout (default: the repository root of ``ntkutils``).

    Returns:
        ``{"commit": sha, "dirty": bool, "dirty_paths": [...]}`` (paths relative to the root,
        at most ``MAX_DIRTY_PATHS``, untracked files that git does not ignore included;
        ``dirty_paths_total`` when there are more), or ``{"commit": None, "dirty": None,
        "reason": ...}`` outside a git checkout or without git.
    """
    where = Path(root) if root is not None else repo_root()
    head = _git("rev-parse", "HEAD", root=where)
    top = _git("rev-parse", "--show-toplevel", root=where)
    if head is None or top is None or Path(top.strip()).resolve() != where.resolve():
        return {"commit": None, "dirty": None,
                "reason": f"{where} is not the top of a git checkout (or git is not installed)"}
    status = _git("status", "--porcelain=v1", "-z", "--untracked-files=all", root=where) or ""
    entries = [e for e in status.split("\0") if e]
    changed: list[str] = []
    skip_next = False
    for entry in entries:
        if skip_next:          # the source path of a rename
            skip_next = False
            continue
        code, path = entry[:2], entry[3:]
        skip_next = "R" in code or "C" in code
        if _counts_as_change(path, where):
            changed.append(path)
    out: dict[str, Any] = {"commit": head.strip(), "dirty": bool(changed),
                           "dirty_paths": sorted(changed)[:MAX_DIRTY_PATHS]}
    if len(changed) > MAX_DIRTY_PATHS:
        out["dirty_paths_total"] = len(changed)
    return out


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def device_description(device: Any) -> dict[str, Any]:
    """The device a run used, by name.

    Args:
        device: a ``torch.device`` or its string (``"cpu"``, ``"cuda"``, ``"cuda:0"``).

    Returns:
        ``{"type", "name", "torch_threads"}``, plus ``"cuda_runtime"`` on a GPU; the name is the
        GPU's (``torch.cuda.get_device_name``) or the processor's (``/proc/cpuinfo``) with the
        number of logical CPUs.
    """
    import torch

    text = str(device)
    kind = text.split(":", 1)[0]
    out: dict[str, Any] = {"type": text, "torch_threads": torch.get_num_threads()}
    if kind == "cuda" and torch.cuda.is_available():
        out["name"] = torch.cuda.get_device_name(torch.device(text))
        out["cuda_runtime"] = torch.version.cuda
    else:
        out["name"] = f"{_cpu_name()} ({os.cpu_count()} logical CPUs)"
    return out


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _read_pins(requirements: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        name, sep, pin = line.split("#", 1)[0].strip().partition("==")
        if sep:
            pins[_canonical(name.split("[", 1)[0].strip())] = pin.strip()
    return pins


def pin_report(requirements: str | os.PathLike[str] | None = None,
               installed: Mapping[str, str | None] | None = None,
               python: tuple[int, int, int] | None = None) -> dict[str, Any]:
    """Does this environment match the lock?

    Args:
        requirements: the lock (default: ``<repo>/requirements.txt``).
        installed: ``{distribution: version or None}`` to judge instead of this interpreter's
            (for tests and for describing another machine's run).
        python: the Python version to judge (default: this interpreter's).

    Returns:
        ``{"lock": path or None, "match": bool or None, "python_supported": bool,
        "differing": {dist: {"ran": v, "pinned": pin}}, "missing": [dist, ...]}``. A local
        build tag (``+cpu``, ``+cu130``) is ignored. ``match`` is None when there is no lock
        (an installed package outside the checkout).
    """
    req = Path(requirements) if requirements is not None else repo_root() / "requirements.txt"
    py = python if python is not None else tuple(sys.version_info[:3])
    supported = SUPPORTED_PYTHONS[0] <= py and py[:2] <= SUPPORTED_PYTHONS[1]
    if not req.exists():
        return {"lock": None, "match": None, "python_supported": supported,
                "differing": {}, "missing": []}
    pins = _read_pins(req)
    have = ({_canonical(k): v for k, v in installed.items()} if installed is not None
            else {name: _version(name) for name in pins})
    differing: dict[str, dict[str, str | None]] = {}
    missing: list[str] = []
    for name, pinned in pins.items():
        ran = have.get(name)
        if ran is None:
            if installed is None:
                missing.append(name)
            continue
        if ran.split("+")[0] != pinned.split("+")[0]:
            differing[name] = {"ran": ran, "pinned": pinned}
    try:
        lock = req.resolve().relative_to(repo_root()).as_posix()
    except ValueError:
        lock = str(req)
    return {"lock": lock, "match": supported and not differing and not missing,
            "python_supported": supported, "differing": differing, "missing": sorted(missing)}


def provenance(device: Any = "cpu") -> dict[str, Any]:
    """The provenance block of a results file (see the module's docstring).

    Args:
        device: the run's device.

    Returns:
        ``{"suite", "git", "python", "platform", "packages", "device", "pins"}``, JSON-safe.
    """
    import torch

    packages: dict[str, str | None] = {name: _version(name) for name in PACKAGES}
    packages["torch"] = torch.__version__   # with its build tag (+cpu, +cu130), which PyPI's
    packages["torch_cuda_build"] = torch.version.cuda   # CUDA wheel leaves out of its metadata
    return {
        "suite": {"name": "ntk-repro", "version": suite_version()},
        "git": git_state(),
        "python": {"version": platform.python_version(),
                   "implementation": platform.python_implementation()},
        "platform": platform.platform(),
        "packages": packages,
        "device": device_description(device),
        "pins": pin_report(),
    }


def environment_note(body: Mapping[str, Any]) -> str | None:
    """One line saying how a results file's environment differs from the pins.

    Args:
        body: a results file's body (with ``provenance``, or the older ``versions_differing_
            from_pins``).

    Returns:
        E.g. ``"not the pinned environment: torch 2.11.0 (pinned 2.13.0), numpy 2.5.2 (pinned
        2.4.6)"``; None when the run used the pins or the file does not say.
    """
    prov = body.get("provenance")
    pins = prov.get("pins") if isinstance(prov, Mapping) else None
    if isinstance(pins, Mapping):
        if pins.get("match") is not False:
            return None
        differing = pins.get("differing") or {}
        parts = [f"{k} {v.get('ran')} (pinned {v.get('pinned')})" for k, v in differing.items()]
        if pins.get("python_supported") is False:
            parts.insert(0, f"Python {prov.get('python', {}).get('version')} (lock: 3.11.5–3.13)")
        if pins.get("missing"):
            parts.append(f"{len(pins['missing'])} pinned packages missing")
    else:
        differing = body.get("versions_differing_from_pins") or {}
        if not differing:
            return None
        parts = [f"{k} {v.get('ran')} (pinned {v.get('pinned')})" for k, v in differing.items()]
    return "not the pinned environment: " + ", ".join(parts) if parts else None
