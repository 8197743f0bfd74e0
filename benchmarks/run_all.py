"""`make bench`: every benchmark in one table, written to benchmarks/results.json.

1. Empirical NTK of a relu MLP with 2 hidden layers (d = 10, N = 200, widths 1024 and 4096,
   float32 and float64): ntkutils' layerwise path; the torch.func Jacobian contraction (blocks of
   16 inputs); nngeometry's Gram matrix (hooks; on the equivalent nn.Sequential in standard
   parameterisation, whose NTK is checked against ours); neural-tangents' three implementations
   (jit, in its own virtualenv, when present). Also the FLOP count of the layerwise computation
   divided by the matrix-product rate measured here on its own shapes (the matmul-limited time).
2. Analytic NNGP + NTK (relu, depth 3, float64, N = 1000, 2000, 4000): ntkutils against
   neural-tangents' ``kernel_fn`` under ``jax.jit`` and a plain NumPy recursion.
3. The suite: wall time of every notebook at ``default`` (from results/) and at ``smoke`` (run
   now into a temporary folder).
4. Tiled (Dask) kernels and NNGP regression at N = 10k, 20k, 40k on MNIST-1D
   (``bench_tiled.py``: throughput against the in-memory kernels, end-to-end time, peak memory).

Machines here are noisy: the torch timings of one row are taken back to back in this process
(best of k), neural-tangents' in a subprocess right after; ratios are what to read. Peak memory
is the growth of the peak RSS of one call in a fresh subprocess.

    python benchmarks/run_all.py [--quick] [--skip-suite] [--nt-python PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from common import best_time, peak_memory_mib  # noqa: E402

import ntkutils as nu  # noqa: E402

N_POINTS, DIM, DEPTH, JAC_BATCH = 200, 10, 3, 16


# --------------------------------------------------------------------------------------------
# 1. Empirical NTK
# --------------------------------------------------------------------------------------------

def _setup(width, dtype, parameterization="ntk"):
    net = nu.MLP(DIM, width, DEPTH, "relu", 1.0, 0.1, parameterization, seed=0, dtype=getattr(torch, dtype))
    x = torch.randn(N_POINTS, DIM, generator=torch.Generator().manual_seed(1), dtype=getattr(torch, dtype))
    return net, x


def _sequential(width, dtype):
    """nn.Sequential with the weights of the standard-parameterisation MLP of the same seed."""
    net, x = _setup(width, dtype, "standard")
    layers = []
    for l in range(DEPTH):
        lin = torch.nn.Linear(net.widths[l], net.widths[l + 1], dtype=getattr(torch, dtype))
        with torch.no_grad():
            lin.weight.copy_(net.weights[l])
            lin.bias.copy_(net.biases[l])
        layers += [lin] + ([torch.nn.ReLU()] if l < DEPTH - 1 else [])
    return torch.nn.Sequential(*layers), net, x


def _nngeometry_gram(model, x):
    from nngeometry.backend import TorchHooksJacobianBackend
    from nngeometry.object import FMatDense

    backend = TorchHooksJacobianBackend(model=model, function=lambda *d: model(d[0]))
    return FMatDense(generator=backend, examples=(x, torch.zeros(len(x)))).data[0, :, 0, :]


def run_ours(width, dtype):
    net, x = _setup(width, dtype)
    nu.empirical_ntk(net, x)


def run_jacobian(width, dtype):
    net, x = _setup(width, dtype)
    nu.empirical_ntk(net, x, implementation="jacobian", batch_size=JAC_BATCH)


def run_nngeometry(width, dtype):
    model, _, x = _sequential(width, dtype)
    _nngeometry_gram(model, x)


def layerwise_flops(widths, n):
    """Multiply-adds ×2 of the layerwise path for scalar output: forward Σ 2N n_l n_{l+1}, the
    backward δ products Σ_{l≥1} 2N n_{l+1} n_l, the Gram products Σ 2N² n_l (inputs) and
    Σ 2N² n_{l+1} (δ, hidden layers)."""
    pairs = list(zip(widths[:-1], widths[1:]))
    forward = sum(2 * n * a * b for a, b in pairs)
    backward = sum(2 * n * a * b for a, b in pairs[1:])
    gram = sum(2 * n * n * a for a, _ in pairs) + sum(2 * n * n * b for _, b in pairs[:-1])
    return forward + backward + gram


def matmul_rate(widths, n, dtype):
    """FLOP/s of torch.mm on the layerwise path's own shapes, best of 5 (this machine's limit)."""
    dt = getattr(torch, dtype)
    g = torch.Generator().manual_seed(0)
    mats = [(torch.randn(n, a, generator=g, dtype=dt), torch.randn(a, b, generator=g, dtype=dt))
            for a, b in zip(widths[:-1], widths[1:])]
    flops = sum(2 * n * a.shape[1] * b.shape[1] for a, b in mats)
    return flops / best_time(lambda: [a @ b for a, b in mats], 5)


def _nt_python(arg):
    for cand in (arg, os.environ.get("NT_PYTHON"), HERE / "peers/.venv/bin/python", "/tmp/ntvenv/bin/python"):
        if cand and Path(cand).exists():
            return str(cand)
    return None


def _nt(nt_python, mode, arrays, *extra):
    """Run benchmarks/peers/nt_bench.py in neural-tangents' venv; returns its npz as a dict."""
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(inp, **arrays)
        proc = subprocess.run([nt_python, str(HERE / "peers/nt_bench.py"), mode, str(inp), str(out), *extra],
                              capture_output=True, text=True, env=os.environ | {"JAX_PLATFORMS": "cpu"})
        if proc.returncode != 0 or not out.exists():
            return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
        with np.load(out) as f:
            return {k: f[k] for k in f.files}


def _rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / np.abs(b).max())


def bench_empirical(widths, dtypes, nt_python, memory=True):
    rows = []
    for dtype in dtypes:
        for width in widths:
            net, x = _setup(width, dtype)
            params = sum(p.numel() for p in net.parameters())
            ours = nu.empirical_ntk(net, x)
            row = {"width": width, "dtype": dtype, "params": params}
            row["ours_s"] = best_time(lambda: nu.empirical_ntk(net, x), 5)
            flops = layerwise_flops(net.widths, N_POINTS)
            rate = matmul_rate(net.widths, N_POINTS, dtype)
            row.update(flops=flops, matmul_gflops=rate / 1e9, matmul_limited_s=flops / rate,
                       fraction_of_matmul_limit=(flops / rate) / row["ours_s"])
            jac = nu.empirical_ntk(net, x, implementation="jacobian", batch_size=JAC_BATCH)
            row["jacobian_rel_diff"] = _rel(jac, ours)
            row["jacobian_s"] = best_time(lambda: nu.empirical_ntk(net, x, implementation="jacobian",
                                                                   batch_size=JAC_BATCH), 1)
            try:
                model, std_net, xs = _sequential(width, dtype)
                row["nngeometry_rel_diff"] = _rel(_nngeometry_gram(model, xs).detach(), nu.empirical_ntk(std_net, xs))
                row["nngeometry_s"] = best_time(lambda: _nngeometry_gram(model, xs), 3)
            except ImportError:
                row["nngeometry_s"] = None
            if memory:
                row["ours_mib"] = peak_memory_mib(run_ours, width, dtype)
                row["jacobian_mib"] = peak_memory_mib(run_jacobian, width, dtype)
                if row.get("nngeometry_s") is not None:
                    row["nngeometry_mib"] = peak_memory_mib(run_nngeometry, width, dtype)
            if nt_python:
                arrays = {"x": x.double().numpy()}
                for l in range(DEPTH):
                    arrays[f"W{l}"], arrays[f"b{l}"] = net.weights[l].detach().double().numpy(), net.biases[l].detach().double().numpy()
                jac_bytes = params * N_POINTS * (4 if dtype == "float32" else 8)
                for impl, name in ((3, "nt_structured"), (2, "nt_ntk_vector_products"), (1, "nt_jacobian_contraction")):
                    if impl != 3 and jac_bytes > 4 * 2**30:
                        row[f"{name}_s"] = None
                        row[f"{name}_note"] = f"skipped: its N×P Jacobian would take {jac_bytes / 2**30:.0f} GiB"
                        continue
                    res = _nt(nt_python, "empirical", arrays, "--implementation", str(impl), "--dtype", dtype)
                    if "error" in res:
                        row[f"{name}_s"], row[f"{name}_note"] = None, str(res["error"])[:200]
                        continue
                    row[f"{name}_s"], row[f"{name}_mib"] = float(res["seconds"]), float(res["peak_mib"])
                    row[f"{name}_rel_diff"] = _rel(res["ntk"], ours)
                row["ours_s_after_nt"] = best_time(lambda: nu.empirical_ntk(net, x), 5)
            rows.append(row)
            print(f"  empirical NTK width {width} {dtype}: ours {row['ours_s']:.4f} s, "
                  f"{100 * row['fraction_of_matmul_limit']:.0f} % of the matmul limit", flush=True)
    return rows


# --------------------------------------------------------------------------------------------
# 2. Analytic kernels
# --------------------------------------------------------------------------------------------

def numpy_relu_kernels(x, depth, sigma_w=1.0, sigma_b=0.1):
    """Plain NumPy arc-cosine recursion (NTK parameterisation), float64: (NNGP, NTK)."""
    sigma = sigma_w ** 2 * (x @ x.T) / x.shape[1] + sigma_b ** 2
    theta = sigma.copy()
    for _ in range(depth - 1):
        q = np.sqrt(np.diag(sigma))
        norm = np.outer(q, q)
        angle = np.arccos(np.clip(sigma / norm, -1.0, 1.0))
        kappa1 = (np.sin(angle) + (np.pi - angle) * np.cos(angle)) / (2 * np.pi) * norm
        kappa0 = (np.pi - angle) / (2 * np.pi)
        theta = sigma_w ** 2 * kappa0 * theta
        sigma = sigma_w ** 2 * kappa1 + sigma_b ** 2
        theta += sigma
    return sigma, theta


def bench_analytic(sizes, nt_python):
    rows = []
    for n in sizes:
        x = nu.data.sphere_uniform(n, DIM, seed=0)
        ours = nu.analytic_kernels(x, depth=DEPTH, activation="relu", sigma_w=1.0, sigma_b=0.1)
        row = {"N": n, "ours_s": best_time(lambda: nu.analytic_kernels(x, depth=DEPTH, activation="relu",
                                                                       sigma_w=1.0, sigma_b=0.1), 3)}
        xn = x.numpy()
        ref = numpy_relu_kernels(xn, DEPTH)
        row["numpy_rel_diff"] = _rel(ours.ntk.numpy(), ref[1])
        row["numpy_s"] = best_time(lambda: numpy_relu_kernels(xn, DEPTH), 2)
        if nt_python:
            res = _nt(nt_python, "analytic", {"x": xn, "depth": np.array(DEPTH)})
            if "error" in res:
                row["nt_jit_s"], row["nt_note"] = None, str(res["error"])[:200]
            else:
                row["nt_jit_s"], row["nt_compile_s"] = float(res["seconds"]), float(res["compile_seconds"])
                row["nt_rel_diff"] = max(_rel(ours.ntk.numpy(), res["ntk"]), _rel(ours.nngp.numpy(), res["nngp"]))
            row["ours_s_after_nt"] = best_time(lambda: nu.analytic_kernels(x, depth=DEPTH, activation="relu",
                                                                           sigma_w=1.0, sigma_b=0.1), 3)
        rows.append(row)
        print(f"  analytic kernels N={n}: ours {row['ours_s']:.3f} s", flush=True)
    return rows


# --------------------------------------------------------------------------------------------
# 3. The suite
# --------------------------------------------------------------------------------------------

def bench_suite(run_smoke=True):
    default = {}
    for path in sorted((ROOT / "results").glob("[0-9][0-9]_*.json")):
        default[path.stem] = json.loads(path.read_text()).get("wall_time_s")
    smoke = {}
    if run_smoke:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "ntkutils", "run", "--profile", "smoke", "--results-dir", tmp,
                            "--figures-dir", tmp, "--output-dir", tmp], cwd=ROOT, capture_output=True,
                           env=os.environ | {"NTK_REPRO_QUIET": "1"})
            smoke_total = time.perf_counter() - t0
            for path in sorted(Path(tmp).glob("[0-9][0-9]_*.json")):
                smoke[path.stem] = json.loads(path.read_text()).get("wall_time_s")
    else:
        smoke_total = None
    return {"default_s": default, "default_total_s": sum(v for v in default.values() if v),
            "smoke_s": smoke, "smoke_total_s": smoke_total}


# --------------------------------------------------------------------------------------------

def _fmt(v, unit="s"):
    if v is None:
        return "—"
    if unit == "s":
        return f"{v:.3g} s"
    return f"{v:.3g}{unit}"


def table(results):
    lines = [("benchmark", "setting", "ours", "baseline", "ours / baseline", "target")]
    for r in results["empirical_ntk"]:
        setting = f"width {r['width']}, {r['dtype']}"
        lines.append(("empirical NTK vs torch.func Jacobian", setting, _fmt(r["ours_s"]), _fmt(r["jacobian_s"]),
                      f"{r['ours_s'] / r['jacobian_s']:.2g} ({r['jacobian_s'] / r['ours_s']:.0f}× faster)",
                      "≥ 100× faster" if r["width"] == 4096 else ""))
        lines.append(("empirical NTK vs matmul limit", setting, _fmt(r["ours_s"]), _fmt(r["matmul_limited_s"]),
                      f"{100 * r['fraction_of_matmul_limit']:.0f} % of the limit",
                      "≥ 70 %" if r["width"] == 4096 else ""))
        if r.get("nngeometry_s"):
            lines.append(("empirical NTK vs nngeometry 0.4", setting, _fmt(r["ours_s"]), _fmt(r["nngeometry_s"]),
                          f"{r['ours_s'] / r['nngeometry_s']:.2f}", ""))
        for name, label in (("nt_structured", "NT structured derivatives"), ("nt_ntk_vector_products", "NT NTK-vector products"),
                            ("nt_jacobian_contraction", "NT Jacobian contraction")):
            if f"{name}_s" not in r:
                continue
            base = r[f"{name}_s"]
            ours = r.get("ours_s_after_nt", r["ours_s"])
            lines.append((f"empirical NTK vs {label}", setting, _fmt(ours), _fmt(base) if base else r.get(f"{name}_note", "—"),
                          f"{ours / base:.2f}" if base else "—",
                          "≤ 1.0" if name == "nt_structured" and r["width"] == 4096 else ""))
        mem = [f"{k.replace('_mib', '')} {r[k]:.0f} MiB" for k in r if k.endswith("_mib") and r[k] is not None]
        if mem:
            lines.append(("empirical NTK peak memory", setting, "; ".join(mem), "", "", ""))
    for r in results["analytic_kernels"]:
        setting = f"relu, depth 3, float64, N = {r['N']}"
        lines.append(("analytic kernels vs NumPy", setting, _fmt(r["ours_s"]), _fmt(r["numpy_s"]),
                      f"{r['ours_s'] / r['numpy_s']:.2f}", ""))
        if "nt_jit_s" in r:
            ours = r.get("ours_s_after_nt", r["ours_s"])
            lines.append(("analytic kernels vs NT kernel_fn (jit)", setting, _fmt(ours), _fmt(r["nt_jit_s"]),
                          f"{ours / r['nt_jit_s']:.2f}" if r["nt_jit_s"] else "—", "≤ 1.0" if r["N"] == 4000 else ""))
    s = results.get("suite")
    if s:
        lines.append(("suite wall time, default", f"{len(s['default_s'])} notebooks (results/)",
                      _fmt(s["default_total_s"]), "", "", "≤ 15 min"))
        if s["smoke_total_s"] is not None:
            lines.append(("suite wall time, smoke", f"{len(s['smoke_s'])} notebooks (run now)",
                          _fmt(s["smoke_total_s"]), "", "", "≤ 3 min"))
    t = results.get("tiled")
    if t:
        r = t["throughput"]
        lines.append(("tiled (Dask) vs in-memory analytic kernels", f"relu, depth 3, N = {r['N']}, tiles of {r['chunk']}",
                      _fmt(r["tiled_s"]), _fmt(r["in_memory_s"]), f"throughput ratio {r['ratio']:.2f}", "≥ 0.8"))
        for r in t["nngp_regression"]:
            lines.append(("NNGP regression, tiled + PCG, end to end", f"MNIST-1D, N = {r['N']}, {r['n_test']} test",
                          _fmt(r["total_s"]), "", f"peak {r['peak_mib'] / 1024:.1f} GiB, {r['iterations']} PCG it.",
                          "completes" if r["N"] == 40000 else ""))
        for r in t.get("neural_tangents", []):
            if "nt_s" in r and "ours_s" in r:
                lines.append(("NNGP regression vs NT kernel_fn + gp_inference", f"MNIST-1D, N = {r['N']}",
                              _fmt(r["ours_s"]), _fmt(r["nt_s"]), f"{r['ratio_ours_over_nt']:.2f}", ""))
    widths = [max(len(str(line[i])) for line in lines) for i in range(6)]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(line, widths)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="width 1024 and N = 1000 only, no memory runs")
    ap.add_argument("--skip-suite", action="store_true", help="do not run the smoke profile")
    ap.add_argument("--nt-python", default=None, help="python of the neural-tangents venv (see benchmarks/peers)")
    ap.add_argument("--output", default=str(HERE / "results.json"))
    args = ap.parse_args()
    nt_python = _nt_python(args.nt_python)
    try:
        import nngeometry  # noqa: F401
        nngeometry_version = getattr(nngeometry, "__version__", "0.4")
    except ImportError:
        nngeometry_version = None
    machine = {"torch": torch.__version__, "threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
               "neural_tangents_python": nt_python, "nngeometry": nngeometry_version}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; neural-tangents: "
          f"{nt_python or 'not installed'}; nngeometry: {nngeometry_version or 'not installed'}", flush=True)
    results = {"machine": machine}
    results["empirical_ntk"] = bench_empirical([1024] if args.quick else [1024, 4096], ["float32", "float64"],
                                               nt_python, memory=not args.quick)
    results["analytic_kernels"] = bench_analytic([1000] if args.quick else [1000, 2000, 4000], nt_python)
    results["suite"] = bench_suite(run_smoke=not args.skip_suite)
    import bench_tiled
    results["tiled"] = {"throughput": bench_tiled.bench_throughput(4000 if args.quick else 8000),
                        "nngp_regression": bench_tiled.bench_regression([10000] if args.quick else [10000, 20000, 40000])}
    results["tiled"]["neural_tangents"] = bench_tiled.bench_peer([10000] if args.quick else [10000, 20000],
                                                                 results["tiled"]["nngp_regression"], nt_python)
    print()
    print(table(results))
    Path(args.output).write_text(json.dumps(results, indent=1, default=float) + "\n")
    print(f"\nwritten: {args.output}")


if __name__ == "__main__":
    main()
