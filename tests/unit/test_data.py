"""Data: geometry of the generated inputs, the bundled digits, and local-file loaders read back
from files written here."""

import gzip
import math
import pickle
import struct

import numpy as np
import pytest
import torch

import ntkutils as nu
from ntkutils import data


def test_circle_and_sphere():
    gamma, x = data.circle_grid(9)
    assert gamma[0] == -math.pi and gamma[-1] == math.pi and x.shape == (9, 2)
    torch.testing.assert_close(torch.linalg.vector_norm(x, dim=1), torch.ones(9, dtype=torch.float64))
    _, x_open = data.circle_grid(8, endpoint=False)
    assert x_open.shape == (8, 2) and not torch.allclose(x_open[0], x_open[-1])
    s = data.sphere_uniform(500, 4, seed=0)
    torch.testing.assert_close(torch.linalg.vector_norm(s, dim=1), torch.ones(500, dtype=torch.float64))
    assert float(s.mean(0).abs().max()) < 0.15  # uniform: centred
    assert torch.equal(s, data.sphere_uniform(500, 4, seed=0))


def test_sphere_checks():
    with pytest.raises(ValueError, match="zero rows"):
        data.normalize_to_sphere(np.array([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="unit sphere"):
        data.require_on_sphere(np.array([[1.0, 0.0], [2.0, 0.0]]))
    data.require_on_sphere(data.sphere_uniform(3, 5))


def test_digits_are_bundled_and_normalised():
    d = data.load_digits(200, classes=(0, 1), seed=3)
    assert d.x.shape == (200, 64) and set(d.labels.tolist()) == {0, 1}
    torch.testing.assert_close(torch.linalg.vector_norm(d.x, dim=1), torch.ones(200, dtype=torch.float64))
    with pytest.raises(ValueError, match="exceeds"):
        data.load_digits(5000)


def _write_idx(path, array):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def test_mnist_from_local_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(20, 28, 28))
    labels = rng.integers(0, 10, size=20)
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels)
    d = data.load_mnist(tmp_path, sphere=False)
    np.testing.assert_allclose(d.x.numpy(), images.reshape(20, -1) / 255.0)
    assert d.labels.tolist() == labels.tolist()


def test_cifar_from_local_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(1, 6):
        batch = {b"data": rng.integers(0, 256, size=(3, 3072), dtype=np.uint8), b"labels": [i, 0, 9]}
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps(batch))
    d = data.load_cifar10(tmp_path, n=6, seed=0)
    assert d.x.shape == (6, 3072)


def test_missing_datasets_say_how_to_provide_them(tmp_path, monkeypatch):
    monkeypatch.delenv("NTK_REPRO_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="NTK_REPRO_DATA"):
        data.load_mnist()
    with pytest.raises(FileNotFoundError, match="IDX"):
        data.load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py"):
        data.load_cifar10(tmp_path)


def test_matthews_reference_agrees_with_the_product_owners_copy() -> None:
    # ../shared/reference/matthews_mmd_identity.json was extracted independently from the same file
    import json
    from pathlib import Path
    ref = nu.data.matthews_mmd_reference()
    shared = Path(__file__).resolve().parents[3] / "shared" / "reference" / "matthews_mmd_identity.json"
    if not shared.exists():
        pytest.skip("no ../shared/reference beside this checkout")
    other = json.loads(shared.read_text())
    for i, h in enumerate(other["hidden_units"]):
        for j in range(3):
            assert ref.mean[h][j] == pytest.approx(other["mean_mmd2"][i][j], rel=2e-3, abs=2e-8)
            assert ref.sd[h][j] == pytest.approx(other["sd_single_repeat"][i][j], rel=5e-3)
