"""Reference infinite-width NNGP/NTK kernels from Google's neural-tangents.

Used to cross-check ntk-repro's own PyTorch kernels.  It runs in a separate
virtualenv (neural-tangents pulls in JAX and TensorFlow), never in the
project's environment:

    python3.11 -m venv /tmp/ntvenv
    /tmp/ntvenv/bin/pip install neural-tangents==0.6.5 jax==0.4.25 \
        jaxlib==0.4.25 "numpy<2" tf2jax==0.3.6
    /tmp/ntvenv/bin/python benchmarks/peers/nt_reference.py IN.npz OUT.npz

IN.npz holds float64 arrays ``x1`` (N, d) and ``x2`` (M, d) and a 0-d string
array ``configs`` with a JSON list of network configs::

    {"name": str, "activation": "relu"|"erf"|"tanh"|"gelu"|"identity",
     "depth": L,            # number of Dense layers (L - 1 activations)
     "W_std": float, "b_std": float or null (null = no bias),
     "parameterization": "ntk"|"standard",
     "width": int,          # hidden width (matters for "standard")
     "deg": int}            # optional, quadrature degree for tanh (default 25)

Accuracy (NT 0.6.5, x64): relu/erf/gelu/identity are closed forms, but the
relu NTK is only good to ~1e-8 relative where two inputs are (nearly) equal,
as NT takes the angle from sqrt(1 - cos^2).  tanh is numerical: deg=25 is off
by a few percent (and not symmetric), deg=100 to ~1e-4, deg=200 to ~1e-8.

The network is Dense(width) -> Act -> ... -> Dense(1), with L Dense layers.
OUT.npz receives, per config, ``<name>_nngp`` and ``<name>_ntk`` (N x M,
from kernel_fn(x1, x2)), ``<name>_nngp_11`` and ``<name>_ntk_11`` (N x N,
from kernel_fn(x1, None)), all float64, plus ``nt_version``, ``jax_version``
and a copy of ``configs``.
"""

import json
import os
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import neural_tangents as nt  # noqa: E402
import numpy as np  # noqa: E402
from neural_tangents import stax  # noqa: E402


def activation(cfg):
    """The stax layer for cfg["activation"]."""
    name = cfg["activation"]
    if name == "relu":
        return stax.Relu()
    if name == "erf":
        return stax.Erf()
    if name == "gelu":
        return stax.Gelu(approximate=False)
    if name == "identity":
        return stax.Identity()
    if name == "tanh":
        return stax.ElementwiseNumerical(fn=jnp.tanh, deg=int(cfg.get("deg", 25)))
    raise ValueError(f"unknown activation {name!r} in config {cfg.get('name')!r}")


def kernel_fn(cfg):
    """Infinite-width kernel_fn of the fully connected network cfg describes."""
    depth = int(cfg["depth"])
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth} in {cfg.get('name')!r}")
    b_std = cfg.get("b_std")
    dense = dict(
        W_std=float(cfg["W_std"]),
        b_std=None if b_std is None else float(b_std),
        parameterization=cfg.get("parameterization", "ntk"),
    )
    layers = []
    for _ in range(depth - 1):
        layers += [stax.Dense(int(cfg.get("width", 512)), **dense), activation(cfg)]
    layers.append(stax.Dense(1, **dense))
    return stax.serial(*layers)[2]


def main(argv):
    if len(argv) != 3:
        sys.exit(f"usage: {argv[0]} IN.npz OUT.npz")
    with np.load(argv[1], allow_pickle=False) as f:
        x1 = np.asarray(f["x1"], dtype=np.float64)
        x2 = np.asarray(f["x2"], dtype=np.float64)
        configs_json = str(f["configs"][()])
    configs = json.loads(configs_json)
    names = [c["name"] for c in configs]
    if len(set(names)) != len(names):
        sys.exit("config names must be unique")

    out = {
        "nt_version": np.array(nt.__version__),
        "jax_version": np.array(jax.__version__),
        "configs": np.array(configs_json),
    }
    for cfg in configs:
        fn = kernel_fn(cfg)
        cross = fn(x1, x2, ("nngp", "ntk"))
        same = fn(x1, None, ("nngp", "ntk"))
        for key, val in (("nngp", cross.nngp), ("ntk", cross.ntk),
                         ("nngp_11", same.nngp), ("ntk_11", same.ntk)):
            arr = np.asarray(val, dtype=np.float64)
            if not np.all(np.isfinite(arr)):
                sys.exit(f"non-finite {key} kernel for config {cfg['name']!r}")
            out[f"{cfg['name']}_{key}"] = arr
    np.savez(argv[2], **out)


if __name__ == "__main__":
    main(sys.argv)
