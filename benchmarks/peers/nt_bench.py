"""Timings (and values, for cross-checks) from Google's neural-tangents, for benchmarks/run_all.py.

Runs in neural-tangents' own virtualenv (see nt_reference.py for how to make it), never in the
project's environment. One measurement per invocation, so that the peak memory is its own:

    PY benchmarks/peers/nt_bench.py empirical IN.npz OUT.npz --implementation 3 --dtype float32
    PY benchmarks/peers/nt_bench.py analytic IN.npz OUT.npz
    PY benchmarks/peers/nt_bench.py predict IN.npz OUT.npz

``empirical``: IN.npz holds ``x`` (N, d) and the weights ``W0..W{L-1}`` (out, in) and biases
``b0..`` of an ntkutils ``MLP`` (NTK parameterisation, relu, W_std = 1, b_std = 0.1); the same
network is built with ``stax`` and its empirical NTK is computed with the requested
``NtkImplementation`` (1 Jacobian contraction, 2 NTK-vector products, 3 structured derivatives)
under ``jax.jit``. ``analytic``: IN.npz holds ``x`` (N, d) and ``depth``; ``kernel_fn(x, None)``
of Dense–Relu–…–Dense (W_std = 1, b_std = 0.1) under ``jax.jit``, both NNGP and NTK, float64.

``predict``: IN.npz holds ``x`` (N, d), ``x_test`` (M, d), ``y`` (N, C), ``depth``, ``w_std``,
``b_std`` and ``ridge``; NNGP regression end to end: ``kernel_fn`` (jit) for K(X, X) and K(x, X),
then ``nt.predict.gp_inference(k, y, diag_reg=ridge)`` (a Cholesky factorisation; ε = ridge·tr(K)/N,
as ours) and its test mean. ``seconds`` is one call after a compiling call (kernels, factorisation
and prediction), ``out`` the (M, C) prediction.

OUT.npz receives ``seconds`` (best of ``--repeats`` after one compile call), ``compile_seconds``,
``peak_mib`` (growth of the peak RSS during the measured calls), the kernel (``ntk``, and ``nngp``
for analytic) and the versions.
"""

import argparse
import os
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _status_kib(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def _reset_peak():
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["empirical", "analytic", "predict"])
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--implementation", type=int, default=3)
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    import neural_tangents as nt
    from neural_tangents import stax

    data = np.load(args.inp)
    dtype = jnp.float64 if (args.mode != "empirical" or args.dtype == "float64") else jnp.float32
    x = jnp.asarray(data["x"], dtype=dtype)
    if args.mode == "empirical":
        depth = sum(1 for k in data.files if k.startswith("W"))
        layers, params = [], []
        for l in range(depth):
            w, b = data[f"W{l}"], data[f"b{l}"]
            layers.append(stax.Dense(w.shape[0], W_std=1.0, b_std=0.1))
            params.append((jnp.asarray(w.T, dtype=dtype), jnp.asarray(b, dtype=dtype)))
            if l < depth - 1:
                layers.append(stax.Relu())
                params.append(())
        _, apply_fn, _ = stax.serial(*layers)
        fn = jax.jit(nt.empirical_ntk_fn(apply_fn, trace_axes=(-1,), vmap_axes=0,
                                         implementation=nt.NtkImplementation(args.implementation)))
        call = lambda: fn(x, None, params).block_until_ready()  # noqa: E731
    elif args.mode == "predict":
        depth, w_std, b_std = int(data["depth"]), float(data["w_std"]), float(data["b_std"])
        layers = []
        for l in range(depth):
            layers.append(stax.Dense(1, W_std=w_std, b_std=b_std))
            if l < depth - 1:
                layers.append(stax.Relu())
        _, _, kernel_fn = stax.serial(*layers)
        kfn = jax.jit(kernel_fn, static_argnames="get")
        x_test, y = jnp.asarray(data["x_test"], dtype=dtype), jnp.asarray(data["y"], dtype=dtype)
        ridge = float(data["ridge"])

        def call():
            k_dd, k_td = kfn(x, None, get="nngp"), kfn(x_test, x, get="nngp")
            predict_fn = nt.predict.gp_inference(k_dd, y, diag_reg=ridge)
            return predict_fn(get="nngp", k_test_train=k_td).block_until_ready()
        args.repeats = 1
    else:
        depth = int(data["depth"])
        layers = []
        for l in range(depth):
            layers.append(stax.Dense(1, W_std=1.0, b_std=0.1))
            if l < depth - 1:
                layers.append(stax.Relu())
        _, _, kernel_fn = stax.serial(*layers)
        kfn = jax.jit(kernel_fn, static_argnames="get")

        def call():
            k = kfn(x, None, get=("nngp", "ntk"))
            k.ntk.block_until_ready()
            return k

    t0 = time.perf_counter()
    result = call()
    compile_s = time.perf_counter() - t0
    base = _status_kib("VmRSS")
    _reset_peak()
    best = float("inf")
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - t0)
    peak = (_status_kib("VmHWM") - base) / 1024.0
    out = {"seconds": best, "compile_seconds": compile_s, "peak_mib": peak,
           "nt_version": nt.__version__, "jax_version": jax.__version__}
    if args.mode == "empirical":
        out["ntk"] = np.asarray(result, dtype=np.float64)
    elif args.mode == "predict":
        out["out"] = np.asarray(result)
    else:
        out["ntk"], out["nngp"] = np.asarray(result.ntk), np.asarray(result.nngp)
    np.savez(args.out, **out)


if __name__ == "__main__":
    main()
