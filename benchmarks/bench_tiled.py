"""Tiled (Dask) kernels and kernel regression at scale (issue 18), for ``make bench``.

1. Throughput of the tiled kernel against the in-memory ``analytic_kernels`` at an N where both
   fit (relu, depth 3, float64, both Σ and Θ): the tiled one persisted in memory with Dask's
   local threaded scheduler. Ratio = in-memory time / tiled time (≥ 0.8 is the target).
2. NNGP regression end to end on MNIST-1D (generated offline; N train, N/4 test): tiled kernel
   (persisted), Nyström-preconditioned CG for (K + εI)α = Y with ε = 1e-2·tr(K)/N and 10
   one-hot columns, and the test predictions tile by tile. Wall time and peak memory (growth of
   peak RSS of the whole run in a fresh subprocess), with the test accuracy for context.

3. The peer: neural-tangents' ``kernel_fn`` + ``predict.gp_inference`` (dense, Cholesky) on the
   same data, at the sizes it can hold (``--nt-sizes``; in its own venv, ``make peers``), with
   the ratio of its time to ours and the largest difference of the test predictions.

    python benchmarks/bench_tiled.py [--sizes 10000 20000 40000] [--throughput-n 8000] [--nt-sizes 10000 20000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import best_time, peak_memory_mib  # noqa: E402

import ntkutils as nu  # noqa: E402
from ntkutils import tiled  # noqa: E402

ARCH = dict(depth=3, activation="relu", sigma_w=1.4, sigma_b=0.1)
RIDGE = 1e-2


def bench_throughput(n: int) -> dict:
    x = nu.data.sphere_uniform(n, 40, seed=0)
    mem = best_time(lambda: nu.analytic_kernels(x, **ARCH), 3)

    def run_tiled():
        import dask
        k = tiled.tiled_kernels(x, **ARCH)
        dask.persist(k.nngp, k.ntk)

    til = best_time(run_tiled, 3)
    ref = nu.analytic_kernels(x[:2000], **ARCH)
    tk = tiled.tiled_kernels(x[:2000], chunk=512, **ARCH)
    diff = max(float(np.abs(tk.nngp.compute() - ref.nngp.numpy()).max()),
               float(np.abs(tk.ntk.compute() - ref.ntk.numpy()).max()))
    row = {"N": n, "in_memory_s": mem, "tiled_s": til, "ratio": mem / til, "chunk": tiled.choose_chunk(n),
           "max_abs_diff_N2000": diff}
    print(f"  kernel throughput N={n}: in-memory {mem:.2f} s, tiled {til:.2f} s, ratio {mem / til:.2f}", flush=True)
    return row


def nngp_regression(n: int, out: dict | None = None) -> dict:
    """NNGP regression on MNIST-1D with n training points; fills and returns timings."""
    out = {} if out is None else out
    t0 = time.perf_counter()
    train, test = nu.data.load_mnist1d(num_samples=int(round(n / 0.8)), seed=42)
    y = torch.nn.functional.one_hot(train.labels, 10).double().numpy() - 0.1
    t1 = time.perf_counter()
    k = tiled.tiled_kernels(train.x, **ARCH).nngp.persist()
    t2 = time.perf_counter()
    reg = tiled.kernel_regression(k, y, tiled.tiled_kernels(test.x, train.x, chunk=tiled.choose_chunk(n),
                                                            **ARCH).nngp, ridge=RIDGE)
    t3 = time.perf_counter()
    acc = float((reg.test.argmax(1) == test.labels.numpy()).mean())
    out.update(N=n, n_test=len(test.x), data_s=t1 - t0, kernel_s=t2 - t1, solve_and_predict_s=t3 - t2,
               total_s=t3 - t0, iterations=reg.solve.iterations, residual=float(reg.solve.relative_residual.max()),
               test_accuracy=acc, chunk=tiled.choose_chunk(n))
    return out


def _regression_child(n: int, path: str) -> None:
    Path(path).write_text(json.dumps(nngp_regression(n)))


def bench_regression(sizes) -> list[dict]:
    import tempfile
    rows = []
    for n in sizes:
        with tempfile.NamedTemporaryFile(suffix=".json") as fh:
            peak = peak_memory_mib(_regression_child, n, fh.name)
            row = json.loads(Path(fh.name).read_text())
        row["peak_mib"] = peak
        row["kernel_gib"] = n * n * 8 / 2 ** 30
        rows.append(row)
        print(f"  NNGP regression N={n}: {row['total_s']:.1f} s (kernel {row['kernel_s']:.1f} s, "
              f"PCG {row['iterations']} it. + predict {row['solve_and_predict_s']:.1f} s), peak {peak / 1024:.2f} GiB "
              f"(a dense K is {row['kernel_gib']:.2f} GiB), test accuracy {row['test_accuracy']:.3f}", flush=True)
    return rows


def bench_peer(sizes, ours: list[dict], nt_python: str | None) -> list[dict]:
    """neural-tangents' NNGP regression at ``sizes``, against our end-to-end time at the same N."""
    if not nt_python:
        print("  neural-tangents: not installed (make peers)", flush=True)
        return []
    from run_all import _nt
    rows = []
    for n in sizes:
        train, test = nu.data.load_mnist1d(num_samples=int(round(n / 0.8)), seed=42)
        y = torch.nn.functional.one_hot(train.labels, 10).double().numpy() - 0.1
        res = _nt(nt_python, "predict", {"x": train.x.numpy(), "x_test": test.x.numpy(), "y": y,
                                         "depth": np.array(ARCH["depth"]), "w_std": np.array(ARCH["sigma_w"]),
                                         "b_std": np.array(ARCH["sigma_b"]), "ridge": np.array(RIDGE)})
        mine = next((r for r in ours if r["N"] == n), None)
        row = {"N": n}
        if "error" in res:
            row["nt_note"] = str(res["error"])[:200]
        else:
            row.update(nt_s=float(res["seconds"]), nt_compile_s=float(res["compile_seconds"]),
                       nt_peak_mib=float(res["peak_mib"]),
                       nt_test_accuracy=float((res["out"].argmax(1) == test.labels.numpy()).mean()))
            if mine:
                row["ours_s"] = mine["total_s"] - mine["data_s"]
                row["ratio_ours_over_nt"] = row["ours_s"] / row["nt_s"]
        rows.append(row)
        print(f"  neural-tangents NNGP regression N={n}: {row}", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[10000, 20000, 40000])
    ap.add_argument("--throughput-n", type=int, default=8000)
    ap.add_argument("--nt-sizes", type=int, nargs="*", default=[10000, 20000])
    ap.add_argument("--nt-python", default=None, help="python of the neural-tangents venv (see benchmarks/peers)")
    ap.add_argument("--only-peer", default=None, help="results_tiled.json whose own rows to keep; run only the peer")
    ap.add_argument("--output", default=str(HERE / "results_tiled.json"))
    args = ap.parse_args()
    from run_all import _nt_python
    if args.only_peer:
        results = json.loads(Path(args.only_peer).read_text())
    else:
        results = {"throughput": bench_throughput(args.throughput_n), "nngp_regression": bench_regression(args.sizes)}
    results["neural_tangents"] = bench_peer(args.nt_sizes, results["nngp_regression"], _nt_python(args.nt_python))
    Path(args.output).write_text(json.dumps(results, indent=1) + "\n")
    print(f"written: {args.output}")


if __name__ == "__main__":
    main()
