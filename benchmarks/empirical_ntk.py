"""Empirical NTK: the fast layerwise path against the torch.func Jacobian contraction.

A relu MLP with 2 hidden layers (depth 3), d inputs, N points, widths 1024 and 4096. Both
implementations run in this process on the same network and inputs; the ratio is what counts
(machines here are noisy). Peak memory is measured per call in a fresh subprocess.

    python benchmarks/empirical_ntk.py [--n 200] [--d 10] [--widths 1024 4096] [--dtype float32]
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import best_time, peak_memory_mib  # noqa: E402

import ntkutils as nu  # noqa: E402


def _setup(width, n, d, dtype):
    net = nu.MLP(d, width, 3, "relu", 1.0, 0.1, seed=0, dtype=getattr(torch, dtype))
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(1), dtype=getattr(torch, dtype))
    return net, x


def run(implementation, width, n, d, dtype, batch_size):
    net, x = _setup(width, n, d, dtype)
    nu.empirical_ntk(net, x, implementation=implementation, batch_size=batch_size)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--d", type=int, default=10)
    ap.add_argument("--widths", type=int, nargs="+", default=[1024, 4096])
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--jacobian-batch", type=int, default=16)
    ap.add_argument("--no-memory", action="store_true", help="skip the subprocess memory runs")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, N={args.n}, d={args.d}, {args.dtype}")
    print(f"{'width':>6} {'params':>10} {'layerwise s':>12} {'jacobian s':>11} {'speed-up':>9} "
          f"{'max rel diff':>12} {'layerwise MiB':>14} {'jacobian MiB':>13}")
    for width in args.widths:
        net, x = _setup(width, args.n, args.d, args.dtype)
        params = sum(p.numel() for p in net.parameters())
        fast = nu.empirical_ntk(net, x)
        ref = nu.empirical_ntk(net, x, implementation="jacobian", batch_size=args.jacobian_batch)
        diff = float((fast - ref).abs().max() / ref.abs().max())
        t_fast = best_time(lambda: nu.empirical_ntk(net, x), repeats=5)
        t_jac = best_time(lambda: nu.empirical_ntk(net, x, implementation="jacobian",
                                                   batch_size=args.jacobian_batch), repeats=1)
        mem = ("-", "-") if args.no_memory else (
            f"{peak_memory_mib(run, 'layerwise', width, args.n, args.d, args.dtype, None):.0f}",
            f"{peak_memory_mib(run, 'jacobian', width, args.n, args.d, args.dtype, args.jacobian_batch):.0f}")
        print(f"{width:>6} {params:>10} {t_fast:>12.4f} {t_jac:>11.3f} {t_jac / t_fast:>8.0f}x "
              f"{diff:>12.1e} {mem[0]:>14} {mem[1]:>13}")


if __name__ == "__main__":
    main()
