"""Analytic NNGP + NTK (relu, depth 3, float64, x2 = x1) for N = 1000, 2000, 4000 points, with
the cost of a plain N×N float64 matrix product of the same inputs in this process as a yardstick.

    python benchmarks/analytic_kernels.py [--sizes 1000 2000 4000] [--d 10] [--activation relu]
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import best_time  # noqa: E402

import ntkutils as nu  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000])
    ap.add_argument("--d", type=int, default=10)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--activation", default="relu")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, depth {args.depth}, "
          f"{args.activation}, float64")
    print(f"{'N':>6} {'kernels s':>10} {'x xᵀ s':>8} {'ratio':>7}")
    for n in args.sizes:
        x = nu.data.sphere_uniform(n, args.d, seed=0)
        t_k = best_time(lambda: nu.analytic_kernels(x, depth=args.depth, activation=args.activation), 3)
        t_mm = best_time(lambda: x @ x.T, 3)
        print(f"{n:>6} {t_k:>10.3f} {t_mm:>8.4f} {t_k / t_mm:>7.0f}")


if __name__ == "__main__":
    main()
