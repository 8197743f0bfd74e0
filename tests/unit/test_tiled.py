"""ntkutils.tiled (Dask tiles, PCG kernel regression) against in-memory computations.

The references are independent of the code under test: ``analytic_kernels`` on the whole
matrix (one call, no tiles) and a dense Cholesky solve of (K + εI)α = Y in torch.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ntkutils as nu
from ntkutils import tiled

ARCH = dict(depth=3, activation="relu", sigma_w=1.4, sigma_b=0.1)


def _dense_regression(k, y, k_test, eps):
    a = k + eps * torch.eye(k.shape[0], dtype=torch.float64)
    alpha = torch.cholesky_solve(y, torch.linalg.cholesky(a))
    return alpha.numpy(), (k_test @ alpha).numpy()


def _rel(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(np.asarray(b)).max())


@pytest.fixture(scope="module")
def problem():
    """N = 3000 inputs of MNIST-1D, 500 test inputs, one-hot targets, and the in-memory kernels."""
    train, test = nu.data.load_mnist1d(num_samples=5000, seed=42)
    x, xt = train.x[:3000], test.x[:500]
    y = torch.nn.functional.one_hot(train.labels[:3000], 10).double() - 0.1
    return x, xt, y, nu.analytic_kernels(x, **ARCH), nu.analytic_kernels(xt, x, **ARCH)


def test_tiled_kernels_equal_in_memory_ones_at_n3000(problem):
    x, xt, _, k, kt = problem
    tk = tiled.tiled_kernels(x, chunk=700, **ARCH)           # ragged last tile, mirrored tiles
    assert tk.nngp.shape == (3000, 3000) and tk.nngp.dtype == np.float64
    assert _rel(tk.nngp.compute(), k.nngp) < 1e-10
    assert _rel(tk.ntk.compute(), k.ntk) < 1e-10
    cross = tiled.tiled_kernels(xt, x, chunk=400, **ARCH)
    assert cross.ntk.shape == (500, 3000)
    assert _rel(cross.ntk.compute(), kt.ntk) < 1e-10
    assert _rel(cross.kernel("nngp").compute(), kt.nngp) < 1e-10


def test_symmetric_tiles_are_exact_on_the_diagonal_and_mirrored(problem):
    x, *_ = problem
    k = tiled.tiled_kernels(x[:600], chunk=256, **ARCH).ntk.compute()
    assert np.array_equal(k[:256, 256:], k[256:, :256].T)          # tiles below are the mirrored ones
    assert _rel(k, k.T) < 1e-14                                     # (x xᵀ in a diagonal tile: rounding)
    direct = nu.analytic_kernels(x[:600], diagonal=True, **ARCH).ntk.numpy()
    assert _rel(np.diag(k), direct) < 1e-14


def test_other_activation_and_depth():
    x = nu.data.sphere_uniform(300, 5, seed=1)
    arch = dict(depth=2, activation="erf", sigma_w=1.2, sigma_b=0.3)
    tk = tiled.tiled_kernels(x, chunk=128, **arch)
    ref = nu.analytic_kernels(x, **arch)
    assert _rel(tk.nngp.compute(), ref.nngp) < 1e-12 and _rel(tk.ntk.compute(), ref.ntk) < 1e-12


@pytest.mark.parametrize("ridge", [1e-2, 1e-5])
def test_pcg_regression_equals_dense_cholesky_at_n3000(problem, ridge):
    x, xt, y, k, kt = problem
    eps = ridge * float(k.ntk.diagonal().mean())
    alpha, pred = _dense_regression(k.ntk, y, kt.ntk, eps)
    lazy = tiled.tiled_kernels(x, chunk=1000, **ARCH).ntk.persist()
    reg = tiled.kernel_regression(lazy, y, tiled.tiled_kernels(xt, x, chunk=1000, **ARCH).ntk, ridge=ridge,
                                  tol=1e-13, rank=300)
    assert reg.solve.ridge == pytest.approx(eps, rel=1e-12)
    assert reg.solve.relative_residual.max() < 1e-12
    assert _rel(reg.solve.alpha, alpha) < 1e-10
    assert _rel(reg.test, pred) < 1e-10
    # the same solver on the in-memory matrix, and with an absolute ridge
    same = tiled.kernel_regression(k.ntk, y, kt.ntk, ridge=eps, relative=False, tol=1e-13, rank=300)
    assert _rel(same.test, pred) < 1e-10


def test_the_preconditioner_is_what_makes_pcg_fast(problem):
    _, _, y, k, _ = problem
    kk, y = k.ntk[:1000, :1000], y[:1000]
    eps = 1e-3 * float(kk.diagonal().mean())
    exact = tiled.pcg_solve(kk, y, eps, rank=1000, tol=1e-10)      # P⁻¹ = (K + εI)⁻¹ up to scale
    assert exact.iterations <= 3
    plain = tiled.pcg_solve(kk, y, eps, rank=0, tol=1e-10, max_iter=5000)
    nystrom = tiled.pcg_solve(kk, y, eps, rank=200, tol=1e-10)
    assert nystrom.iterations * 3 < plain.iterations
    assert _rel(nystrom.alpha, plain.alpha) < 1e-7


def test_pcg_reports_no_convergence_and_non_finite_values():
    k = torch.eye(50, dtype=torch.float64) + 0.1
    y = torch.ones(50, 2, dtype=torch.float64)
    k_rand = torch.randn(50, 50, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with pytest.raises(RuntimeError, match="max_iter=1"):
        tiled.pcg_solve(k_rand @ k_rand.T, y, 1e-8, rank=0, tol=1e-14, max_iter=1)
    bad = k.clone()
    bad[3, 4] = float("nan")
    with pytest.raises(FloatingPointError, match="iteration 1"):
        tiled.pcg_solve(bad, y, 1e-3, rank=0)


def test_bad_arguments_raise_value_errors():
    x = torch.randn(20, 3, dtype=torch.float64)
    k = torch.eye(20, dtype=torch.float64)
    with pytest.raises(ValueError, match="chunk"):
        tiled.tiled_kernels(x, chunk=0, **ARCH)
    with pytest.raises(ValueError, match="activation"):
        tiled.tiled_kernels(x, depth=2, activation="nope")
    with pytest.raises(ValueError, match="depth"):
        tiled.tiled_kernels(x, depth=-1)
    with pytest.raises(ValueError, match="x2"):
        tiled.tiled_kernels(x, torch.randn(5, 4), **ARCH)
    with pytest.raises(ValueError, match="ridge"):
        tiled.pcg_solve(k, torch.ones(20), 0.0)
    with pytest.raises(ValueError, match="rank"):
        tiled.pcg_solve(k, torch.ones(20), 1e-3, rank=-1)
    with pytest.raises(ValueError, match="square"):
        tiled.pcg_solve(torch.ones(20, 3), torch.ones(20), 1e-3)
    with pytest.raises(ValueError, match="y must have shape"):
        tiled.pcg_solve(k, torch.ones(7), 1e-3)
    with pytest.raises(ValueError, match="fraction"):
        tiled.choose_chunk(100, memory=10 ** 9, fraction=2.0)
    with pytest.raises(ValueError, match="n must"):
        tiled.choose_chunk(0)


def test_chunk_follows_the_memory_per_worker():
    # c = sqrt(fraction * memory / bytes per entry), capped by n/4 and MAX_CHUNK, floored at MIN_CHUNK
    per_entry = tiled.TILE_BYTES_PER_ENTRY
    assert tiled.choose_chunk(10 ** 6, memory=4 * per_entry * 1000 ** 2, fraction=0.25) == 1000
    assert tiled.choose_chunk(10 ** 6, memory=10 ** 15) == tiled.MAX_CHUNK
    assert tiled.choose_chunk(10 ** 6, memory=1000) == tiled.MIN_CHUNK
    assert tiled.choose_chunk(4000, memory=10 ** 12) == 1000
    assert tiled.choose_chunk(50, memory=10 ** 12) == 50
    assert tiled.memory_per_worker() > 0


def test_same_code_on_a_distributed_local_cluster():
    """The tiles and the solve run unchanged on dask.distributed (two worker processes)."""
    distributed = pytest.importorskip("distributed")
    x = nu.data.sphere_uniform(500, 8, seed=3)
    xt = nu.data.sphere_uniform(60, 8, seed=4)
    y = torch.randn(500, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    ref = nu.analytic_kernels(x, **ARCH).nngp
    eps = 1e-3 * float(ref.diagonal().mean())
    _, pred = _dense_regression(ref, y, nu.analytic_kernels(xt, x, **ARCH).nngp, eps)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  memory_limit="2GiB") as cluster, distributed.Client(cluster):
        assert tiled.memory_per_worker() == 2 * 2 ** 30
        k = tiled.tiled_kernels(x, chunk=128, **ARCH).nngp.persist()
        reg = tiled.kernel_regression(k, y, tiled.tiled_kernels(xt, x, chunk=128, **ARCH).nngp, ridge=1e-3,
                                      tol=1e-13, rank=100)
        kernel = k.compute()
    assert _rel(kernel, ref) < 1e-12
    assert _rel(reg.test, pred) < 1e-10


def test_progress_bar_only_when_watched(monkeypatch):
    monkeypatch.setenv("NTK_REPRO_QUIET", "1")
    from contextlib import nullcontext
    assert isinstance(tiled.progress_context(), nullcontext)
    from dask.diagnostics import ProgressBar
    assert isinstance(tiled.progress_context(True), ProgressBar)


def test_mnist1d_is_generated_offline_deterministically(monkeypatch):
    import random

    import requests

    def no_network(*args, **kwargs):
        raise AssertionError("MNIST-1D must not be downloaded")

    monkeypatch.setattr(requests, "get", no_network)
    np.random.seed(7)
    random.seed(7)
    before = (np.random.random(), random.random())
    np.random.seed(7)
    random.seed(7)
    train, test = nu.data.load_mnist1d(num_samples=500, seed=3)
    assert (np.random.random(), random.random()) == before       # global state restored
    assert train.x.shape == (400, 40) and test.x.shape == (100, 40)
    assert train.x.dtype == torch.float64 and train.labels.dtype == torch.int64
    assert train.name == "mnist1d-500-seed3-train"
    counts = np.bincount(np.concatenate([train.labels.numpy(), test.labels.numpy()]), minlength=10)
    assert counts.tolist() == [50] * 10
    whole = torch.cat([train.x, test.x])
    assert abs(float(whole.mean())) < 1e-12 and abs(float(whole.std(unbiased=False)) - 1) < 1e-12
    again, _ = nu.data.load_mnist1d(num_samples=500, seed=3)
    assert torch.equal(again.x, train.x) and torch.equal(again.labels, train.labels)
    other, _ = nu.data.load_mnist1d(num_samples=500, seed=4)
    assert not torch.equal(other.x, train.x)


def test_mnist1d_bad_arguments():
    with pytest.raises(ValueError, match="num_samples"):
        nu.data.load_mnist1d(num_samples=5)
    with pytest.raises(ValueError, match="seed"):
        nu.data.load_mnist1d(seed=-1)


def test_dask_client_starts_a_local_cluster_and_the_tiles_run_on_it():
    pytest.importorskip("distributed")
    client = tiled.dask_client("local-cluster")
    try:
        assert client is not None and len(client.scheduler_info()["workers"]) >= 1
        x = nu.data.sphere_uniform(200, 4, seed=0)
        k = tiled.tiled_kernels(x, chunk=64, **ARCH).ntk.compute()
        assert _rel(k, nu.analytic_kernels(x, **ARCH).ntk) < 1e-12
    finally:
        client.close()
        client.cluster.close()
    assert tiled.dask_client("") is None


def test_nngp_regression_equals_neural_tangents_gp_inference():
    """The tiles and the Nyström PCG against neural-tangents 0.6.5's ``predict.gp_inference``.

    ``tests/data/nt_nngp_regression.npz``: 500 MNIST-1D training and 124 test inputs, one-hot
    targets minus 0.1, the NNGP of Dense(W_std=1.4, b_std=0.1)–Relu–…, 3 Dense layers, and
    NT's test mean with ``diag_reg=1e-2`` (ε = 1e-2·tr(K)/N, its default relative scale; a
    Cholesky solve), computed by ``benchmarks/peers/nt_bench.py predict`` in NT's own venv.
    """
    from pathlib import Path

    ref = np.load(Path(__file__).resolve().parents[1] / "data" / "nt_nngp_regression.npz")
    arch = dict(depth=int(ref["depth"]), activation="relu", sigma_w=float(ref["w_std"]), sigma_b=float(ref["b_std"]))
    x, xt = torch.from_numpy(ref["x"]), torch.from_numpy(ref["x_test"])
    k = tiled.tiled_kernels(x, chunk=128, **arch).nngp.persist()
    reg = tiled.kernel_regression(k, ref["y"], tiled.tiled_kernels(xt, x, chunk=128, **arch).nngp,
                                  ridge=float(ref["ridge"]), tol=1e-13)
    assert _rel(reg.test, ref["out"]) < 1e-9
