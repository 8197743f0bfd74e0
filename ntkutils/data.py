"""Inputs for the notebooks: the unit circle, the sphere, and real digit images.

Nothing here downloads. scikit-learn's 8×8 digits ship with scikit-learn (the default real data);
MNIST and CIFAR-10 are read from a local path you give (or ``$NTK_REPRO_DATA``), and a missing
file raises ``FileNotFoundError`` that says where to put what.
All arrays are float64 torch tensors; labels are int64.
"""

from __future__ import annotations

import gzip
import math
import os
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import _validation as check


@dataclass
class LabelledData:
    """x: (n, n0) float64 inputs; labels: (n,) int64 class labels; name: where they came from."""

    x: torch.Tensor
    labels: torch.Tensor
    name: str


def circle(gamma) -> torch.Tensor:
    """Points x(γ) = (cos γ, sin γ) on the unit circle: γ of shape (n,) -> (n, 2) float64."""
    g = torch.as_tensor(gamma, dtype=torch.float64).reshape(-1)
    return torch.stack([torch.cos(g), torch.sin(g)], dim=1)


def circle_grid(n: int, *, start: float = -math.pi, stop: float = math.pi,
                endpoint: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` equally spaced angles in [start, stop] (``endpoint=False``: [start, stop), the grid
    for Fourier analysis) and their points. Returns γ (n,) and x (n, 2), float64."""
    n = check.positive_int("n", n)
    gamma = torch.linspace(start, stop, n + (0 if endpoint else 1), dtype=torch.float64)
    gamma = gamma if endpoint else gamma[:-1]
    return gamma, circle(gamma)


def gaussian_inputs(n: int, d: int, *, seed: int = 0) -> torch.Tensor:
    """n i.i.d. N(0, I_d) points, (n, d) float64 (e.g. Jacot et al.'s Fig. 1 training inputs)."""
    gen = torch.Generator().manual_seed(check.nonnegative_int("seed", seed))
    return torch.randn(check.positive_int("n", n), check.positive_int("d", d), generator=gen,
                       dtype=torch.float64)


def sphere_uniform(n: int, d: int, *, seed: int = 0) -> torch.Tensor:
    """n points uniform on the unit sphere S^{d−1} ⊂ R^d (normalised Gaussians), (n, d) float64."""
    return normalize_to_sphere(gaussian_inputs(n, d, seed=seed))


def normalize_to_sphere(x) -> torch.Tensor:
    """Rows divided by their Euclidean norm. A zero row has no direction: ``ValueError``."""
    x = check.as_inputs("x", x, dtype=torch.float64)
    norms = torch.linalg.vector_norm(x, dim=1, keepdim=True)
    zero = torch.nonzero(norms[:, 0] == 0).flatten().tolist()
    if zero:
        raise ValueError(f"x has zero rows {zero[:10]} that cannot be projected onto the sphere")
    return x / norms


def require_on_sphere(x, *, name: str = "x", atol: float = 1e-10) -> torch.Tensor:
    """Return ``x`` (float64) if every row has unit norm within ``atol``, else ``ValueError``."""
    x = check.as_inputs(name, x, dtype=torch.float64)
    dev = (torch.linalg.vector_norm(x, dim=1) - 1).abs()
    if float(dev.max()) > atol:
        i = int(dev.argmax())
        raise ValueError(f"{name} must lie on the unit sphere (|‖x‖ − 1| ≤ {atol}); row {i} has norm "
                         f"{float(dev[i]) + 1:.6g}. Use ntkutils.data.normalize_to_sphere first.")
    return x


def _subset(x: np.ndarray, labels: np.ndarray, n: int | None, classes, seed: int):
    if classes is not None:
        keep = np.isin(labels, np.asarray(list(classes)))
        x, labels = x[keep], labels[keep]
    if n is not None:
        n = check.positive_int("n", n)
        if n > len(x):
            raise ValueError(f"n={n} exceeds the {len(x)} available examples")
        idx = np.sort(np.random.default_rng(seed).choice(len(x), size=n, replace=False))
        x, labels = x[idx], labels[idx]
    return x, labels


def _finish(x: np.ndarray, labels: np.ndarray, name: str, sphere: bool, center: bool) -> LabelledData:
    xt = torch.as_tensor(x.reshape(len(x), -1), dtype=torch.float64)
    if center:
        xt = xt - xt.mean(0, keepdim=True)
    if sphere:
        xt = normalize_to_sphere(xt)
    return LabelledData(xt, torch.as_tensor(labels, dtype=torch.int64), name)


def load_digits(n: int | None = None, *, classes=None, seed: int = 0, sphere: bool = True,
                center: bool = False) -> LabelledData:
    """scikit-learn's bundled 8×8 handwritten digits (1797 images, n0 = 64), no download.

    Args:
        n: random subset size (seeded, order preserved), or all.
        classes: keep only these labels (e.g. (0, 1)).
        sphere: project each image onto the unit sphere S^63 (the setting of Jacot et al. §6).
        center: subtract the mean image first.
    """
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    x, labels = _subset(d.data.astype(np.float64), d.target.astype(np.int64), n, classes, seed)
    return _finish(x, labels, "sklearn-digits", sphere, center)


def _data_root(path) -> Path:
    root = path if path is not None else os.environ.get("NTK_REPRO_DATA")
    if root is None:
        raise FileNotFoundError("No data path given: pass path=... or set NTK_REPRO_DATA to a folder "
                                "holding the dataset files (nothing is ever downloaded).")
    return Path(root).expanduser()


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    shape = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _find(root: Path, names: list[str]) -> Path | None:
    for name in names:
        for candidate in (root / name, root / (name + ".gz")):
            if candidate.exists():
                return candidate
    return None


def load_mnist(path=None, n: int | None = None, *, split: str = "train", classes=None, seed: int = 0,
               sphere: bool = True, center: bool = False) -> LabelledData:
    """MNIST from a local folder: the IDX files (``train-images-idx3-ubyte[.gz]``,
    ``train-labels-idx1-ubyte[.gz]``, ``t10k-…`` for ``split="test"``) or ``mnist.npz`` with
    ``x_train, y_train, x_test, y_test``. Pixels are scaled to [0, 1]; n0 = 784."""
    split = check.choice("split", split, ("train", "test"))
    root = _data_root(path)
    prefix = "train" if split == "train" else "t10k"
    images = _find(root, [f"{prefix}-images-idx3-ubyte", f"{prefix}-images.idx3-ubyte"])
    labels = _find(root, [f"{prefix}-labels-idx1-ubyte", f"{prefix}-labels.idx1-ubyte"])
    if images is not None and labels is not None:
        x, y = _read_idx(images), _read_idx(labels)
    elif (root / "mnist.npz").exists():
        with np.load(root / "mnist.npz") as z:
            x, y = z[f"x_{split}"], z[f"y_{split}"]
    else:
        raise FileNotFoundError(
            f"MNIST not found in {root}. Put the four IDX files from the MNIST distribution "
            f"({prefix}-images-idx3-ubyte.gz, {prefix}-labels-idx1-ubyte.gz, …) or a Keras-style "
            "mnist.npz there, and pass that folder as path= (or set NTK_REPRO_DATA).")
    x, y = _subset(x.astype(np.float64) / 255.0, y.astype(np.int64), n, classes, seed)
    return _finish(x, y, f"mnist-{split}", sphere, center)


def load_cifar10(path=None, n: int | None = None, *, split: str = "train", classes=None, seed: int = 0,
                 sphere: bool = True, center: bool = False) -> LabelledData:
    """CIFAR-10 from a local folder: the python batches (``cifar-10-batches-py/data_batch_1…5``,
    ``test_batch``) or ``cifar10.npz`` with ``x_train, y_train, x_test, y_test``. Pixels in
    [0, 1], each image flattened as stored; n0 = 3072."""
    split = check.choice("split", split, ("train", "test"))
    root = _data_root(path)
    batch_dir = root / "cifar-10-batches-py" if (root / "cifar-10-batches-py").exists() else root
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    if all((batch_dir / b).exists() for b in names):
        xs, ys = [], []
        for b in names:
            with open(batch_dir / b, "rb") as fh:
                batch = pickle.load(fh, encoding="bytes")
            xs.append(np.asarray(batch[b"data"]))
            ys.append(np.asarray(batch[b"labels"]))
        x, y = np.concatenate(xs), np.concatenate(ys)
    elif (root / "cifar10.npz").exists():
        with np.load(root / "cifar10.npz") as z:
            x, y = z[f"x_{split}"], z[f"y_{split}"].reshape(-1)
    else:
        raise FileNotFoundError(
            f"CIFAR-10 not found in {root}. Unpack the 'CIFAR-10 python version' archive there "
            "(folder cifar-10-batches-py/ with data_batch_1…5 and test_batch) or put a cifar10.npz, "
            "and pass that folder as path= (or set NTK_REPRO_DATA).")
    x, y = _subset(x.astype(np.float64) / 255.0, y.astype(np.int64), n, classes, seed)
    return _finish(x, y, f"cifar10-{split}", sphere, center)


# --------------------------------------------------------------------------- published reference values
@dataclass(frozen=True)
class MMDReference:
    """Matthews et al.'s released MMD² between networks and their GP, equal-width networks.

    ``mean[H][j]`` and ``sd[H][j]``: mean over ``n_repeats`` repeats and the standard deviation
    of one repeat (ddof = 1) for H hidden units per layer and ``hidden_layers[j]`` hidden
    layers (our depth L = hidden layers + 1). ``source`` and ``setting`` say where they come from.
    """

    hidden_layers: tuple[int, ...]
    mean: dict[int, tuple[float, ...]]
    sd: dict[int, tuple[float, ...]]
    n_repeats: int
    source: str
    setting: str


# Computed from the public results file (100 repeats), rounded to 4 significant digits:
# H: ((mean for 1, 2, 3 hidden layers), (single-repeat sd for 1, 2, 3 hidden layers)).
_MATTHEWS_MMD_IDENTITY = {
    1: ((0.02592, 0.09372, 0.1268), (0.001677, 0.003402, 0.00443)),
    2: ((0.008755, 0.04341, 0.07465), (0.0006276, 0.002255, 0.002605)),
    3: ((0.004105, 0.02341, 0.04678), (0.0004073, 0.001255, 0.002295)),
    4: ((0.002353, 0.01416, 0.03075), (0.0002529, 0.0009516, 0.001539)),
    5: ((0.001478, 0.009217, 0.02175), (0.0001636, 0.0006796, 0.001291)),
    6: ((0.001021, 0.006537, 0.01613), (0.0001275, 0.0004596, 0.001101)),
    7: ((0.0007302, 0.00484, 0.01211), (0.0001196, 0.000437, 0.0008563)),
    8: ((0.0005528, 0.003678, 0.009577), (0.0001017, 0.0003987, 0.000766)),
    9: ((0.000448, 0.002906, 0.007711), (8.02e-05, 0.0003142, 0.000683)),
    10: ((0.0003445, 0.002333, 0.006519), (6.884e-05, 0.00027, 0.0005422)),
    15: ((0.0001445, 0.001035, 0.002961), (3.851e-05, 0.0001492, 0.0003532)),
    20: ((8.773e-05, 0.0005762, 0.001706), (3.371e-05, 0.0001081, 0.0002496)),
    30: ((3.453e-05, 0.0002465, 0.0007724), (2.311e-05, 6.473e-05, 0.0001608)),
    40: ((1.848e-05, 0.0001407, 0.000432), (1.974e-05, 4.869e-05, 9.944e-05)),
    50: ((1.248e-05, 9.612e-05, 0.0002803), (1.86e-05, 3.832e-05, 8.451e-05)),
    75: ((5.147e-06, 4.12e-05, 0.000122), (1.506e-05, 2.854e-05, 5.697e-05)),
    100: ((3.07e-06, 3.027e-05, 6.066e-05), (1.307e-05, 2.598e-05, 4.203e-05)),
    250: ((1.416e-06, 1.43e-06, 1.118e-05), (1.41e-05, 2.067e-05, 3.978e-05)),
    500: ((-7.083e-07, -9.593e-07, 4.863e-06), (1.389e-05, 1.973e-05, 3.674e-05)),
}


def matthews_mmd_reference() -> MMDReference:
    """The MMD² table of Matthews et al. (2018, ICLR; arXiv:1804.11271), equal-width scheme.

    Source: widedeepnetworks/widedeepnetworks, commit caa535e ("Changes for latest paper
    version"), ``experiments/results/mmd_identity.pickle`` (Apache-2.0), made by
    ``experiments/mmd_experiment.py`` at that commit: the 10 inputs
    ``RandomState(3).randn(10, 4)``; every hidden layer of width H; weights N(0, 0.8/fan_in),
    biases N(0, 0.2), activation √2·relu; the GP is the networks' own limit kernel; 2000
    network draws against 2000 GP draws with 10⁻³ jitter on both; RBF kernel of lengthscale
    0.5 on the 10-vectors; unbiased MMD². (The older ``mmd.pickle`` of the same repository was
    made with widths H, 2H, 3H and a GP whose first layer had weight variance 1/d, not 0.8/d.)
    """
    return MMDReference(
        hidden_layers=(1, 2, 3),
        mean={h: v[0] for h, v in _MATTHEWS_MMD_IDENTITY.items()},
        sd={h: v[1] for h, v in _MATTHEWS_MMD_IDENTITY.items()},
        n_repeats=100,
        source="widedeepnetworks/widedeepnetworks@caa535e experiments/results/mmd_identity.pickle",
        setting="10 inputs RandomState(3).randn(10, 4); equal widths H; W ~ N(0, 0.8/fan_in), "
                "b ~ N(0, 0.2), sqrt(2)*relu; 2000 vs 2000 draws, 1e-3 jitter; RBF lengthscale 0.5; "
                "unbiased MMD^2; 100 repeats",
    )
