"""Inputs for the notebooks: the unit circle, the sphere, and real digit images.

Nothing here downloads. scikit-learn's 8×8 digits ship with scikit-learn (the default real data); MNIST-1D is generated
offline by the ``mnist1d`` package;
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
    """A labelled data set.

    Attributes:
        x: inputs, shape (n, n0), float64.
        labels: class labels, shape (n,), int64.
        name: where they came from (e.g. ``"sklearn-digits"``, ``"mnist-train"``).
    """

    x: torch.Tensor
    labels: torch.Tensor
    name: str


def circle(gamma) -> torch.Tensor:
    """Points x(γ) = (cos γ, sin γ) on the unit circle.

    Args:
        gamma: angles γ, shape (n,) (any array-like; flattened).

    Returns:
        The points, shape (n, 2), float64.
    """
    g = torch.as_tensor(gamma, dtype=torch.float64).reshape(-1)
    return torch.stack([torch.cos(g), torch.sin(g)], dim=1)


def circle_grid(n: int, *, start: float = -math.pi, stop: float = math.pi,
                endpoint: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` equally spaced angles and their points on the unit circle.

    Args:
        n: number of angles, >= 1.
        start, stop: the interval of angles.
        endpoint: include ``stop`` ([start, stop]); False gives [start, stop), the grid for
            Fourier analysis.

    Returns:
        ``(γ, x)``: angles of shape (n,) and points of shape (n, 2), float64.

    Raises:
        ValueError: ``n`` not a positive integer.
    """
    n = check.positive_int("n", n)
    gamma = torch.linspace(start, stop, n + (0 if endpoint else 1), dtype=torch.float64)
    gamma = gamma if endpoint else gamma[:-1]
    return gamma, circle(gamma)


def gaussian_inputs(n: int, d: int, *, seed: int = 0) -> torch.Tensor:
    """n i.i.d. N(0, I_d) points (e.g. Jacot et al.'s Fig. 1 training inputs).

    Args:
        n: number of points, >= 1.
        d: dimension, >= 1.
        seed: seed of the ``torch.Generator``, >= 0.

    Returns:
        The points, shape (n, d), float64.

    Raises:
        ValueError: bad ``n``, ``d`` or ``seed``.
    """
    gen = torch.Generator().manual_seed(check.nonnegative_int("seed", seed))
    return torch.randn(check.positive_int("n", n), check.positive_int("d", d), generator=gen,
                       dtype=torch.float64)


def sphere_uniform(n: int, d: int, *, seed: int = 0) -> torch.Tensor:
    """n points uniform on the unit sphere S^{d−1} ⊂ R^d (normalised Gaussians).

    Args:
        n: number of points, >= 1.
        d: dimension, >= 1.
        seed: seed of the Gaussians (``gaussian_inputs``), >= 0.

    Returns:
        The points, shape (n, d), float64.

    Raises:
        ValueError: bad ``n``, ``d`` or ``seed``.
    """
    return normalize_to_sphere(gaussian_inputs(n, d, seed=seed))


def normalize_to_sphere(x) -> torch.Tensor:
    """Project every row onto the unit sphere (divide it by its Euclidean norm).

    Args:
        x: inputs, shape (N, n0) (tensor or array-like).

    Returns:
        The normalised rows, shape (N, n0), float64.

    Raises:
        ValueError: ``x`` is not a finite 2-D array, or has a zero row (it has no direction).
    """
    x = check.as_inputs("x", x, dtype=torch.float64)
    norms = torch.linalg.vector_norm(x, dim=1, keepdim=True)
    zero = torch.nonzero(norms[:, 0] == 0).flatten().tolist()
    if zero:
        raise ValueError(f"x has zero rows {zero[:10]} that cannot be projected onto the sphere")
    return x / norms


def require_on_sphere(x, *, name: str = "x", atol: float = 1e-10) -> torch.Tensor:
    """Check that every row of ``x`` lies on the unit sphere.

    Args:
        x: inputs, shape (N, n0) (tensor or array-like).
        name: the parameter's name, for the message.
        atol: allowed deviation |‖x_i‖ − 1|.

    Returns:
        ``x`` as a float64 tensor of shape (N, n0).

    Raises:
        ValueError: ``x`` is not a finite 2-D array, or a row's norm is off by more than
            ``atol``.
    """
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
        n: random subset size (seeded, order preserved), or ``None`` for all.
        classes: keep only these labels (e.g. (0, 1)).
        seed: seed of the subset.
        sphere: project each image onto the unit sphere S^63 (the setting of Jacot et al. §6).
        center: subtract the mean image first.

    Returns:
        ``LabelledData`` named ``"sklearn-digits"``: x (n, 64) float64, labels (n,) int64.

    Raises:
        ValueError: ``n`` not a positive integer or larger than the available examples.
    """
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    x, labels = _subset(d.data.astype(np.float64), d.target.astype(np.int64), n, classes, seed)
    return _finish(x, labels, "sklearn-digits", sphere, center)


def load_mnist1d(num_samples: int = 5000, *, seed: int = 42) -> tuple[LabelledData, LabelledData]:
    """MNIST-1D (Greydanus 2020, arXiv:2011.14439), generated here by the ``mnist1d`` package.

    The package's own ``make_dataset`` with its default arguments (templates, padding, shear,
    noise, 40 samples per signal, an 80/20 train/test split, the whole set centred and scaled
    to unit standard deviation) except ``num_samples`` and ``seed``; its download path is never
    used, so nothing leaves the machine. ``num_samples=5000, seed=42`` is the published data
    set (4000 train, 1000 test) behind the package README's baselines. The generator seeds
    NumPy's and Python's global random state; both are restored afterwards.

    Args:
        num_samples: examples generated (a multiple of 10 keeps the classes balanced), >= 10.
        seed: the generator's seed, >= 0.

    Returns:
        ``(train, test)``: ``LabelledData`` named ``"mnist1d-<num_samples>-seed<seed>-train"``
        and ``"-test"``, x (n, 40) float64, labels (n,) int64 in 0..9.

    Raises:
        ValueError: bad ``num_samples`` or ``seed``.
        ImportError: the ``mnist1d`` package is missing (it is in requirements.txt).
    """
    import random

    num_samples = check.int_in_range("num_samples", num_samples, 10)
    seed = check.nonnegative_int("seed", seed)
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.seed = num_samples, seed
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    name = f"mnist1d-{num_samples}-seed{seed}"
    return tuple(LabelledData(torch.as_tensor(d[kx], dtype=torch.float64),
                              torch.as_tensor(d[ky], dtype=torch.int64), f"{name}-{part}")
                 for kx, ky, part in (("x", "y", "train"), ("x_test", "y_test", "test")))


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
    """MNIST from a local folder (nothing is downloaded).

    The folder holds the IDX files (``train-images-idx3-ubyte[.gz]``,
    ``train-labels-idx1-ubyte[.gz]``, ``t10k-…`` for ``split="test"``) or ``mnist.npz`` with
    ``x_train, y_train, x_test, y_test``. Pixels are scaled to [0, 1]; n0 = 784.

    Args:
        path: the folder (default: ``$NTK_REPRO_DATA``).
        n: random subset size (seeded, order preserved), or ``None`` for all.
        split: ``"train"`` or ``"test"``.
        classes: keep only these labels.
        seed: seed of the subset.
        sphere: project each image onto the unit sphere.
        center: subtract the mean image first.

    Returns:
        ``LabelledData`` named ``"mnist-<split>"``: x (n, 784) float64, labels (n,) int64.

    Raises:
        FileNotFoundError: no path given, or the files are not there (the message says what
            to put where).
        ValueError: bad ``split``, a malformed IDX file, or a bad ``n``.
    """
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
    """CIFAR-10 from a local folder (nothing is downloaded).

    The folder holds the python batches (``cifar-10-batches-py/data_batch_1…5``,
    ``test_batch``) or ``cifar10.npz`` with ``x_train, y_train, x_test, y_test``. Pixels in
    [0, 1], each image flattened as stored; n0 = 3072.

    Args:
        path: the folder (default: ``$NTK_REPRO_DATA``).
        n: random subset size (seeded, order preserved), or ``None`` for all.
        split: ``"train"`` or ``"test"``.
        classes: keep only these labels.
        seed: seed of the subset.
        sphere: project each image onto the unit sphere.
        center: subtract the mean image first.

    Returns:
        ``LabelledData`` named ``"cifar10-<split>"``: x (n, 3072) float64, labels (n,) int64.

    Raises:
        FileNotFoundError: no path given, or the files are not there (the message says what
            to put where).
        ValueError: bad ``split`` or ``n``.
    """
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

    Attributes:
        hidden_layers: the hidden-layer counts j indexes (our depth L = hidden layers + 1).
        mean: ``mean[H][j]``, the mean over ``n_repeats`` repeats for H hidden units per layer
            and ``hidden_layers[j]`` hidden layers.
        sd: ``sd[H][j]``, the standard deviation of one repeat (ddof = 1), same indexing.
        n_repeats: number of repeats behind ``mean``.
        source: where the numbers come from.
        setting: the experiment's setting.
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

    Returns:
        The ``MMDReference`` for 1, 2, 3 hidden layers and H in 1…10, 15, 20, 30, 40, 50, 75,
        100, 250, 500 (100 repeats; values rounded to 4 significant digits).
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


def matthews_mmd_cells(depths, widths, *, n_repeats: int, activation: str = "relu",
                       sigma_w: float = 1.0, sigma_b: float | None = 0.1
                       ) -> dict[tuple[int, int], tuple[float, float]]:
    """Matthews et al.'s mean MMD² for each (depth L, width n) of a run.

    Each comes with the standard error of the difference between this run's mean of
    ``n_repeats`` repeats and theirs.

    Their experiment (``matthews_mmd_reference``) used √2·relu with weight variance 0.8/fan_in
    and bias variance 0.2, i.e. relu with σ_w² = 1.6, σ_b² = 0.2 on inputs x/√2; for any other
    network there is no reference and the result is empty. For a cell (L, n) with L − 1 of their
    hidden-layer counts and n one of their widths H, the mean is μ = ``mean[n][L − 2]``
    and the standard error is ``s·√(1/R + 1/100)`` with s their single-repeat standard deviation
    (the same estimator on the same law has the same spread) and R = ``n_repeats``.

    Args:
        depths: depths L (weight layers) of the run.
        widths: hidden widths n of the run.
        n_repeats: R >= 1, this run's repeats per cell.
        activation: the run's activation.
        sigma_w: the run's σ_w.
        sigma_b: the run's σ_b (``None``: no bias).

    Returns:
        ``{(L, n): (μ, se)}`` for the cells with a reference, in the order of ``depths`` × ``widths``.

    Raises:
        ValueError: ``n_repeats`` < 1.
    """
    n_repeats = check.positive_int("n_repeats", n_repeats)
    sb2 = 0.0 if sigma_b is None else float(sigma_b) ** 2
    if not (activation == "relu" and math.isclose(float(sigma_w) ** 2, 1.6) and math.isclose(sb2, 0.2)):
        return {}
    ref = matthews_mmd_reference()
    return {(L, n): (ref.mean[n][L - 2], ref.sd[n][L - 2] * math.sqrt(1 / n_repeats + 1 / ref.n_repeats))
            for L in depths for n in widths if L - 1 in ref.hidden_layers and n in ref.mean}


def one_hot_split(data: LabelledData, n_train: int, n_test: int, *, seed: int, offset: float = 0.1,
                  n_classes: int | None = None) -> tuple[torch.Tensor, ...]:
    """A seeded random train/test split with one-hot targets shifted by ``offset``.

    The points are ordered by ``torch.randperm`` with a generator seeded by ``seed``; the first
    ``n_train`` train, the next ``n_test`` test. Targets are one-hot rows minus ``offset``
    (e.g. −0.1 / 0.9 for 10 classes: zero mean), float64 (Lee et al. 2019 regress on one-hot
    labels with MSE).

    Args:
        data: inputs (n, n0) and integer labels (n,).
        n_train: training-set size, >= 1.
        n_test: test-set size, >= 1, with ``n_train + n_test <= n``.
        seed: seed of the permutation, >= 0.
        offset: subtracted from every one-hot entry.
        n_classes: number of classes k (default: largest label + 1).

    Returns:
        ``(x, y, x_test, y_test)``: (n_train, n0), (n_train, k), (n_test, n0), (n_test, k);
        the targets float64.

    Raises:
        ValueError: sizes that do not fit, a bad seed.
    """
    n = len(data.x)
    n_train, n_test = _positive_int("n_train", n_train), _positive_int("n_test", n_test)
    if n_train + n_test > n:
        raise ValueError(f"n_train + n_test must be at most the {n} points, got {n_train + n_test}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    k = int(data.labels.max()) + 1 if n_classes is None else _positive_int("n_classes", n_classes)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    train, test = order[:n_train], order[n_train:n_train + n_test]
    y, y_test = (torch.nn.functional.one_hot(data.labels[i], k).double() - offset
                 for i in (train, test))
    return data.x[train], y, data.x[test], y_test


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def random_split(data: LabelledData, n: int, *, seed: int) -> tuple[LabelledData, LabelledData]:
    """Shuffle ``data`` and split it into its first ``n`` points and the rest.

    The order is ``torch.randperm(len, generator seeded by seed)``; the two parts are, e.g.,
    training and held-out points.

    Args:
        data: inputs (len, n0) and labels (len,).
        n: size of the first part.
        seed: seed of the permutation.

    Returns:
        (first, rest): ``LabelledData`` with (n, n0) and (len − n, n0) inputs, same ``name``.

    Raises:
        ValueError: unless 1 <= n <= len(data.x).
    """
    n = _positive_int("n", n)
    if n > len(data.x):
        raise ValueError(f"n must be at most the {len(data.x)} points of {data.name}, got {n!r}")
    order = torch.randperm(len(data.x), generator=torch.Generator().manual_seed(seed))
    first, rest = order[:n], order[n:]
    return (LabelledData(data.x[first], data.labels[first], data.name),
            LabelledData(data.x[rest], data.labels[rest], data.name))


# ------------------------------------------------------------------ issue 13: notebook 06's task
@dataclass
class BinaryLineTask:
    """A ±1 task with held-out test images and a line of inputs through two training images.

    Attributes:
        x_train: (N, n0) float64; y_train: (N,) float64 in {+1, −1}.
        x_test: (M + L, n0) float64: the M held-out test images, then the L line points
            x(α) = α·x_a + (1 − α)·x_b.
        n_test: M; line: (L,) the α; line_targets: (y_b, y_a), the targets at α = 0 and α = 1.
        name: the data set's name.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    n_test: int
    line: torch.Tensor
    line_targets: tuple[float, float]
    name: str


def digits_line_task(classes, n_train: int, n_test: int, *, seed: int, line) -> BinaryLineTask:
    """Bundled digits of two classes (``load_digits(classes=classes, center=True)``), scaled to
    ‖x‖² = n0 (pixels of unit scale), targets +1 for ``classes[0]`` and −1 for ``classes[1]``.

    One permutation ``torch.randperm`` (generator seeded with ``seed``) gives the first
    ``n_train`` images for training and the next ``n_test`` for testing; the line runs through
    x_a, the first training image, and x_b, the first training image of the other class
    (Lee et al. 2019, Fig. 2).

    Args:
        classes: two digit labels; n_train, n_test: positive integers with n_train + n_test at
            most the images of the two classes; seed: seed of the permutation; line: (L,) α values.

    Returns:
        ``BinaryLineTask`` (float64 tensors).

    Raises:
        ValueError: not two classes, bad sizes, or one class absent from the training images.
    """
    if len(classes) != 2:
        raise ValueError(f"classes must name two digits, got {classes!r}")
    n_train, n_test = _positive_int("n_train", n_train), _positive_int("n_test", n_test)
    source = load_digits(classes=classes, center=True)
    xs = source.x * math.sqrt(source.x.shape[1])
    ys = (source.labels == classes[0]).double() * 2 - 1
    if n_train + n_test > len(xs):
        raise ValueError(f"n_train + n_test must be at most {len(xs)}, got {n_train + n_test}")
    order = torch.randperm(len(xs), generator=torch.Generator().manual_seed(seed))
    train = order[:n_train]
    i_a = int(train[0])
    others = [int(i) for i in train if ys[i] != ys[i_a]]
    if not others:
        raise ValueError(f"the {n_train} training images hold only one class")
    i_b = others[0]
    alpha = torch.as_tensor(line, dtype=torch.float64).reshape(-1, 1)
    x_test = torch.cat([xs[order[n_train:n_train + n_test]], alpha * xs[i_a] + (1 - alpha) * xs[i_b]])
    return BinaryLineTask(xs[train], ys[train], x_test, n_test, alpha[:, 0],
                          (float(ys[i_b]), float(ys[i_a])), source.name)
