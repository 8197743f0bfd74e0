"""The fast paths on a GPU give the CPU's numbers (skipped where no CUDA device is present; run on
the lent GPU machine for the `paper` profiles)."""

import pytest
import torch

import ntkutils as nu

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def _nets(device, n=3):
    return [nu.MLP(3, 64, 3, "tanh", 1.3, 0.1, seed=s, dtype=torch.float64, device=device) for s in range(n)]


def test_empirical_ntk_and_analytic_kernels_on_cuda():
    x = nu.data.sphere_uniform(20, 3, seed=0)
    cpu, gpu = _nets("cpu", 1)[0], _nets("cuda", 1)[0]
    torch.testing.assert_close(nu.empirical_ntk(gpu, x.cuda()).cpu(), nu.empirical_ntk(cpu, x), rtol=1e-10, atol=1e-12)
    k_gpu = nu.analytic_kernels(x, depth=3, activation="relu", device="cuda")
    k_cpu = nu.analytic_kernels(x, depth=3, activation="relu")
    torch.testing.assert_close(k_gpu.ntk.cpu(), k_cpu.ntk, rtol=1e-12, atol=1e-14)


def test_training_on_cuda_matches_cpu_and_records_on_cpu():
    x, xt = nu.data.sphere_uniform(10, 3, seed=1), nu.data.sphere_uniform(4, 3, seed=2)
    y = torch.sin(2 * x[:, 0])
    a = nu.train_network(_nets("cpu", 1)[0], x, y, steps=20, eta=0.5, x_test=xt, ntk_steps=[20])
    b = nu.train_network(_nets("cuda", 1)[0], x.cuda(), y.cuda(), steps=20, eta=0.5, x_test=xt.cuda(), ntk_steps=[20])
    assert b.f_test.device.type == "cpu" and b.ntk[20].device.type == "cpu"
    torch.testing.assert_close(b.f_test, a.f_test, rtol=1e-9, atol=1e-11)
    ea = nu.train_ensemble(_nets("cpu"), x, y, steps=20, eta=0.5, x_test=xt)
    eb = nu.train_ensemble(_nets("cuda"), x.cuda(), y.cuda(), steps=20, eta=0.5, x_test=xt.cuda())
    assert eb.f_test.device.type == "cpu"
    torch.testing.assert_close(eb.f_test, ea.f_test, rtol=1e-9, atol=1e-11)
    la = nu.linearized_ensemble(_nets("cpu"), x, y, xt, [0, 5, 20], eta=0.5)
    lb = nu.linearized_ensemble(_nets("cuda"), x.cuda(), y, xt.cuda(), [0, 5, 20], eta=0.5)
    torch.testing.assert_close(lb, la, rtol=1e-9, atol=1e-11)
