"""ntkutils.kernel_vs_network (notebook 11) against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

import ntkutils as nu
from ntkutils import kernel_vs_network as kv

ARCH = dict(depth=2, activation="relu", sigma_w=1.4, sigma_b=0.1)


@pytest.fixture(scope="module")
def small():
    train, test = kv.load_classification_data("digits", n_train=120, n_test=80, seed=3)
    k = nu.analytic_kernels(train.x, **ARCH).ntk.numpy()
    kt = nu.analytic_kernels(test.x, train.x, **ARCH).ntk.numpy()
    return train, test, k, kt, kv.one_hot_targets(train.labels)


def test_targets_are_one_hot_minus_a_tenth():
    y = kv.one_hot_targets(torch.tensor([0, 3, 9]))
    assert y.shape == (3, 10) and np.allclose(y.sum(1), 0.0)
    assert y[1, 3] == pytest.approx(0.9) and y[1, 0] == pytest.approx(-0.1)


def test_ridge_flow_and_gd_equal_direct_computations(small):
    _, _, k, kt, y = small
    p = kv.SpectralPredictor(k, y, kt)
    n = len(k)
    eps = 1e-2 * np.trace(k) / n
    assert np.allclose(p.ridge(1e-2), kt @ np.linalg.solve(k + eps * np.eye(n), y), rtol=1e-9, atol=1e-12)
    assert p.ridge_time(1e-2) == pytest.approx(n / eps)
    t = 3.0 * n / eps
    direct = kt @ np.linalg.solve(k, (np.eye(n) - scipy.linalg.expm(-k * t / n)) @ y)
    assert np.allclose(p.flow(t), direct, rtol=1e-6, atol=1e-9)
    # discrete GD against the explicit iteration of the kernel model and against dynamics.gradient_descent_predict
    eta, steps = 0.5 * nu.max_learning_rate(torch.as_tensor(k), "mean"), 37
    f0, f0t = 0.1 * np.random.default_rng(0).standard_normal((n, 10)), np.zeros((len(kt), 10))
    f, ft = f0.copy(), f0t.copy()
    for _ in range(steps):
        r = f - y
        f, ft = f - eta / n * k @ r, ft - eta / n * kt @ r
    got = p.gd(steps, eta, y - f0, f0t)
    assert np.allclose(got, ft, rtol=1e-8, atol=1e-10)
    ref = nu.gradient_descent_predict(torch.as_tensor(k), torch.as_tensor(y), torch.as_tensor(f0), steps, eta=eta,
                                      ntk_test_train=torch.as_tensor(kt), f0_test=torch.as_tensor(f0t),
                                      normalization="mean")
    assert np.allclose(got, ref.test[-1].numpy(), rtol=1e-8, atol=1e-10)


def test_paired_difference_and_metrics():
    a = np.array([1, 1, 0, 1, 0], bool)
    b = np.array([1, 0, 0, 0, 1], bool)
    d, se = kv.paired_difference(a, b)
    diffs = a.astype(float) - b
    assert d == pytest.approx(diffs.mean()) and se == pytest.approx(diffs.std(ddof=1) / np.sqrt(5))
    with pytest.raises(ValueError, match="at least 2"):
        kv.paired_difference(a[:1], b[:1])
    pred = np.array([[0.9, 0.1], [0.2, 0.3]])
    assert kv.accuracy(pred, [0, 0]) == 0.5
    assert kv.mse(pred, np.zeros_like(pred)) == pytest.approx(0.5 * (0.82 + 0.13) / 2)


def test_kernel_study_chooses_on_validation_and_the_calibration_matters():
    train, test = kv.load_classification_data("digits", n_train=300, n_test=200, seed=1)
    ks = kv.kernel_study(train, test, architecture=ARCH, ridges=np.logspace(-6, 1, 8), n_val=60, seed=0)
    for kind in kv.KINDS:
        i = int(np.flatnonzero(ks.ridges == ks.chosen[kind])[0])
        assert ks.val_accuracy[kind][i] == ks.val_accuracy[kind].max()
        assert ks.accuracy_at_chosen(kind) == pytest.approx(ks.test_accuracy[kind][i])
    assert np.allclose(ks.flow_ratio(), ks.flow_mse / ks.test_mse["ntk"])
    assert kv.curve_deviation(ks) < kv.curve_deviation(ks, 0.01)
    assert kv.curve_deviation(ks, 1.0) >= 0


def test_networks_approach_their_infinite_counterpart_with_width():
    train, test = kv.load_classification_data("digits", n_train=100, n_test=60, seed=2)
    ks = kv.kernel_study(train, test, architecture=ARCH, ridges=[1e-3, 1e-1], n_val=20, seed=0)
    nets = kv.network_study(train, test, ks, architecture=ARCH, widths=[64, 4096], seeds=2, steps=30,
                            eta_fraction=0.5, seed=0)
    assert nets.distance.shape == (2, 2) and np.all(nets.distance > 0)
    assert nets.distance[1].mean() < 0.5 * nets.distance[0].mean()
    assert np.all(np.abs(nets.accuracy - nets.kernel_gd_accuracy)[1] <= 0.05)


def test_learning_curves_on_dask_equal_in_memory_kernel_regression():
    train, test = kv.load_classification_data("digits", n_train=400, n_test=150, seed=4)
    ridges = {"nngp": 1e-2, "ntk": 1e-3}
    lc = kv.learning_curves(train, test, [100, 400], architecture=ARCH, ridges=ridges, width=64, steps=5,
                            eta_fraction=0.5, seed=0)
    for kind in kv.KINDS:
        for j, n in enumerate([100, 400]):
            k = getattr(nu.analytic_kernels(train.x[:n], **ARCH), kind).numpy()
            kt = getattr(nu.analytic_kernels(test.x, train.x[:n], **ARCH), kind).numpy()
            pred = kv.SpectralPredictor(k, kv.one_hot_targets(train.labels[:n]), kt).ridge(ridges[kind])
            assert lc.error[kind.upper()][j] == pytest.approx(1 - kv.accuracy(pred, test.labels))
    assert set(lc.error) == {"NNGP", "NTK", "network"} and lc.dataset == "sklearn-digits"


def test_bad_arguments():
    with pytest.raises(ValueError, match="dataset"):
        kv.load_classification_data("cifar", n_train=10, n_test=10)
    with pytest.raises(ValueError, match="n_train"):
        kv.load_classification_data("digits", n_train=5000, n_test=10)
    with pytest.raises(ValueError, match="n_test"):
        kv.load_classification_data("mnist1d", n_train=10, n_test=2000, num_samples=1000)
    x = torch.randn(10, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="eta_fraction"):
        kv.gd_learning_rate(x, architecture=ARCH, fraction=1.0)
    with pytest.raises(ValueError, match="eta_fraction"):
        kv.gd_learning_rate(x, architecture=ARCH, fraction=-0.1)
    with pytest.raises(ValueError, match="dask_scheduler"):
        nu.dask_client(8786)
    assert nu.dask_client("") is None and nu.dask_client(None) is None
