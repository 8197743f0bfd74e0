"""Kernel matrices beyond one machine's comfort: tiles on Dask, and kernel regression on them.

A kernel matrix grows as N²: at N = 40,000 one float64 matrix is 12.8 GB. Here it is a
``dask.array`` of square tiles, each computed by ``analytic_kernels`` (float64, exact angles on
identical rows), so the same code runs on Dask's local threaded scheduler (the default) and,
unchanged, on a ``dask.distributed`` cluster: whatever ``dask.compute`` uses when it is called
(a ``distributed.Client`` made the default scheduler, e.g. ``Client("tcp://host:8786")``).

Kernel regression (K + εI) α = Y is solved by preconditioned conjugate gradients (PCG) with
tiled matrix products, not by Dask's blocked Cholesky. The reason is memory: a Cholesky
factor is a second N×N matrix (at 40k, 12.8 GB + 12.8 GB > this machine's 24 GB), while PCG
needs K once plus N×r for the preconditioner, and each iteration is one pass over K. The
preconditioner is the randomised Nyström preconditioner of Frangella, Tropp & Udell (2023,
SIAM J. Matrix Anal. Appl. 44, "Randomized Nyström preconditioning", Alg. 2.1 and eq. 1.3):
with a rank-r Nyström approximation K̂ = U Λ̂ Uᵀ,
P⁻¹ = (λ̂_r + ε) U (Λ̂ + εI)⁻¹ Uᵀ + (I − UUᵀ), which makes the condition number of the
preconditioned system O(1) once λ_r(K) ≲ ε·(a few), so the iteration count does not grow with N.

Shapes: inputs (N, n0); kernels (N, M) float64; targets (N, C).
"""

from __future__ import annotations

import math
import os
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from . import _validation as check
from ._progress import progress_enabled
from .kernels import analytic_kernels

#: Bytes per kernel entry while a tile is computed: ``analytic_kernels`` writes Σ and Θ (two
#: float64 numbers per entry) and works in 256×256 blocks (negligible beside a tile), so 16,
#: tripled for the product that reads the tile and for margin.
TILE_BYTES_PER_ENTRY = 48
#: Smallest and largest tile side chosen automatically.
MIN_CHUNK, MAX_CHUNK = 256, 4096


@dataclass
class TiledKernels:
    """Lazy NNGP Σ and NTK Θ of the same tiles (computing both costs no more than one).

    Attributes:
        nngp, ntk: ``dask.array.Array`` of shape (N, M), float64, square tiles of side ``chunk``.
        chunk: the tile side.
    """

    nngp: Any
    ntk: Any
    chunk: int

    def kernel(self, which: str):
        """``self.nngp`` or ``self.ntk`` by name ("nngp" or "ntk")."""
        return getattr(self, check.choice("which", which, ("nngp", "ntk")))


@dataclass
class SolveResult:
    """A solution of (K + εI) α = Y by PCG.

    Attributes:
        alpha: (N, C) float64.
        iterations: CG iterations taken.
        relative_residual: (C,) ‖Y − (K + εI)α‖ / ‖Y‖ per column, recomputed at the end.
        ridge: ε, the absolute diagonal term.
        rank: rank of the Nyström preconditioner (0: none).
    """

    alpha: np.ndarray
    iterations: int
    relative_residual: np.ndarray
    ridge: float
    rank: int


@dataclass
class Regression:
    """Kernel regression's predictions.

    Attributes:
        test: (M, C) predictions K(x, X)(K + εI)⁻¹Y, float64.
        solve: the ``SolveResult``.
    """

    test: np.ndarray
    solve: SolveResult


def _available_memory() -> int:
    try:
        import psutil
        return int(psutil.virtual_memory().available)
    except Exception:  # pragma: no cover - psutil ships with distributed
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))


def memory_per_worker() -> int:
    """Bytes one Dask worker thread may use for a tile.

    Returns:
        On a ``dask.distributed`` client: the smallest worker's memory limit divided by its
        threads. Otherwise (the local threaded scheduler): available memory divided by the
        number of threads Dask will use (``os.cpu_count()``).
    """
    try:
        from distributed import default_client
        client = default_client()
    except (ImportError, ValueError):
        client = None
    if client is not None:
        workers = client.scheduler_info().get("workers", {}).values()
        limits = [w["memory_limit"] / max(1, w.get("nthreads", 1)) for w in workers if w.get("memory_limit")]
        if limits:
            return int(min(limits))
    return _available_memory() // max(1, os.cpu_count() or 1)


def choose_chunk(n: int, *, memory: int | None = None, fraction: float = 0.25) -> int:
    """The tile side for an N-point kernel: the largest that fits ``fraction`` of a worker's memory.

    A tile of side c needs about ``TILE_BYTES_PER_ENTRY``·c² bytes while it is computed; the
    side is the largest c with that ≤ fraction·memory, at most ⌈n/4⌉ (so that even a small
    kernel has enough tiles to keep every thread busy), clipped to [MIN_CHUNK, MAX_CHUNK] and
    to n.

    Args:
        n: number of rows, >= 1.
        memory: bytes per worker (default ``memory_per_worker()``).
        fraction: share of that memory one tile may take, in (0, 1].

    Returns:
        The tile side c, 1 <= c <= n.
    """
    n = check.positive_int("n", n)
    fraction = check.finite_float("fraction", fraction, strictly_positive=True)
    if fraction > 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    memory = memory_per_worker() if memory is None else check.positive_int("memory", memory)
    c = int(math.sqrt(fraction * memory / TILE_BYTES_PER_ENTRY))
    return max(1, min(n, max(MIN_CHUNK, min(c, MAX_CHUNK, -(-n // 4)))))


def _kernel_tile(x1: np.ndarray, x2: np.ndarray | None, architecture: dict) -> tuple[np.ndarray, np.ndarray]:
    """One tile: the float64 (Σ, Θ) of ``analytic_kernels(x1, x2)``, each (c1, c2) and contiguous."""
    k = analytic_kernels(torch.from_numpy(x1), None if x2 is None else torch.from_numpy(x2), **architecture)
    return k.nngp.cpu().numpy(), k.ntk.cpu().numpy()


def tiled_kernels(x1, x2=None, *, chunk: int | None = None, **architecture) -> TiledKernels:
    """Σ and Θ of ``analytic_kernels(x1, x2, **architecture)`` as lazy Dask arrays of tiles.

    Nothing is computed until the result is (``.compute()``, ``.persist()``, or a product).
    One task computes both kernels of a tile, so asking for both costs no more than one. For
    x2 = None the kernel is symmetric: only the tiles on and above the diagonal are computed,
    and those below are their transposes — views of the same arrays, so a persisted symmetric
    kernel holds about N²/2 numbers, not N².

    Args:
        x1: inputs, (N, n0); x2: inputs, (M, n0), or None for x2 = x1.
        chunk: tile side (default ``choose_chunk(N)``, from the memory per worker).
        **architecture: keyword arguments of ``analytic_kernels`` (depth, activation, sigma_w,
            sigma_b, parameterization, ...; ``device="cuda"`` computes each tile on the worker's
            GPU and returns it to host memory).

    Returns:
        ``TiledKernels`` with (N, M) float64 ``nngp`` and ``ntk``.

    Raises:
        ValueError: bad inputs or chunk (the architecture is checked on a 1×1 tile first).
    """
    import dask
    import dask.array as da

    a = check.as_inputs("x1", x1, dtype=torch.float64, device="cpu").numpy()
    b = None if x2 is None else check.as_inputs("x2", x2, dtype=torch.float64, device="cpu",
                                                  n0=a.shape[1]).numpy()
    analytic_kernels(torch.from_numpy(a[:1]), None, **(architecture | {"device": "cpu"}))  # bad architecture: fail now
    chunk = choose_chunk(len(a)) if chunk is None else check.positive_int("chunk", chunk)
    tile = dask.delayed(_kernel_tile, pure=True, nout=2)
    rows = [a[s:s + chunk] for s in range(0, len(a), chunk)]
    cols = rows if b is None else [b[s:s + chunk] for s in range(0, len(b), chunk)]
    grids: tuple[list, list] = ([], [])
    tiles: dict = {}
    for i, xi in enumerate(rows):
        for grid in grids:
            grid.append([])
        for j, xj in enumerate(cols):
            if b is None and j < i:
                pair = tuple(t.T for t in tiles[j, i])
            else:
                task = tile(xi, None if (b is None and i == j) else xj, architecture)
                pair = tuple(da.from_delayed(task[q], shape=(len(xi), len(xj)), dtype=np.float64)
                             for q in (0, 1))
                tiles[i, j] = pair
            for grid, block in zip(grids, pair):
                grid[-1].append(block)
    return TiledKernels(nngp=da.block(grids[0]), ntk=da.block(grids[1]), chunk=chunk)


def progress_context(progress: bool | None = None):
    """Dask's progress bar for the local scheduler when a person is watching, else nothing.

    (On a distributed cluster use its dashboard, or ``distributed.progress``.)
    """
    if not progress_enabled(progress):
        return nullcontext()
    from dask.diagnostics import ProgressBar
    return ProgressBar(minimum=2.0)


def _as_operator(k) -> tuple[Callable[[np.ndarray], np.ndarray], int, np.ndarray]:
    """(v ↦ K v, N, diag K) for a square numpy/torch matrix or a Dask array."""
    if hasattr(k, "dask"):
        import dask.array as da

        if k.ndim != 2 or k.shape[0] != k.shape[1]:
            raise ValueError(f"k_train must be square, got shape {k.shape}")
        col_chunks = k.chunks[1]

        def matmul(v: np.ndarray) -> np.ndarray:
            return np.asarray((k @ da.from_array(v, chunks=(col_chunks, v.shape[1]))).compute())

        return matmul, k.shape[0], np.asarray(da.diagonal(k).compute())
    m = np.asarray(k.detach().cpu().numpy() if isinstance(k, torch.Tensor) else k, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"k_train must be square, got shape {m.shape}")
    return (lambda v: m @ v), m.shape[0], np.diag(m).copy()


def nystrom_preconditioner(matmul: Callable[[np.ndarray], np.ndarray], n: int, rank: int, ridge: float,
                           *, seed: int = 0) -> Callable[[np.ndarray], np.ndarray]:
    """The randomised Nyström preconditioner P⁻¹ of K + εI (Frangella et al. 2023, Alg. 2.1).

    Args:
        matmul: v ↦ K v for v of shape (N, r).
        n: N; rank: r (1 <= r <= N); ridge: ε > 0.
        seed: seed of the Gaussian test matrix.

    Returns:
        v ↦ P⁻¹ v for v of shape (N, C), float64.
    """
    rng = np.random.default_rng(seed)
    omega, _ = np.linalg.qr(rng.standard_normal((n, rank)))
    y = matmul(omega)
    nu = math.sqrt(n) * np.finfo(np.float64).eps * np.linalg.norm(y, 2)
    y_nu = y + nu * omega
    c = np.linalg.cholesky(omega.T @ y_nu)        # lower: C Cᵀ = Ωᵀ Y_ν
    b = np.linalg.solve(c, y_nu.T).T              # B = Y_ν C⁻ᵀ, so B Bᵀ = Y_ν (ΩᵀY_ν)⁻¹ Y_νᵀ
    u, s, _ = np.linalg.svd(b, full_matrices=False)
    lam = np.maximum(s ** 2 - nu, 0.0)
    scale = lam[-1] + ridge

    def apply(v: np.ndarray) -> np.ndarray:
        uv = u.T @ v
        return v - u @ uv + u @ (uv * (scale / (lam + ridge))[:, None])

    return apply


def pcg_solve(k_train, y, ridge: float, *, rank: int = 500, tol: float = 1e-10, max_iter: int = 1000,
              seed: int = 0) -> SolveResult:
    """Solve (K + εI) α = Y by conjugate gradients preconditioned with a rank-r Nyström P.

    Each column of Y runs its own CG (the C columns share every product with K).

    Args:
        k_train: K, (N, N): a Dask array (tiled products), a torch tensor or a NumPy array.
        y: Y, (N,) or (N, C).
        ridge: ε > 0, the absolute diagonal term.
        rank: Nyström rank r (clipped to N; 0 for plain CG).
        tol: stop when every column's ‖Y − (K + εI)α‖ / ‖Y‖ <= tol.
        max_iter: at most this many iterations (``RuntimeError`` if not converged).
        seed: seed of the preconditioner's test matrix.

    Returns:
        ``SolveResult`` (alpha (N, C)).

    Raises:
        ValueError: bad ridge, rank, tol or shapes.
        RuntimeError: no convergence within ``max_iter``.
        FloatingPointError: NaN/Inf in the iteration, naming the iteration.
    """
    ridge = check.finite_float("ridge", ridge, strictly_positive=True)
    rank = check.nonnegative_int("rank", rank)
    tol = check.finite_float("tol", tol, strictly_positive=True)
    max_iter = check.positive_int("max_iter", max_iter)
    matmul, n, _ = _as_operator(k_train)
    rhs = np.asarray(y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else y, dtype=np.float64)
    rhs = rhs.reshape(n, -1) if rhs.ndim == 1 and rhs.shape[0] == n else rhs
    if rhs.ndim != 2 or rhs.shape[0] != n:
        raise ValueError(f"y must have shape (N,) or (N, C) with N = {n}, got {rhs.shape}")

    def a_op(v):
        return matmul(v) + ridge * v

    rank = min(rank, n)
    precond = nystrom_preconditioner(matmul, n, rank, ridge, seed=seed) if rank else (lambda v: v)
    norms = np.linalg.norm(rhs, axis=0)
    norms[norms == 0] = 1.0
    alpha = np.zeros_like(rhs)
    r = rhs.copy()
    z = precond(r)
    p = z.copy()
    rz = np.sum(r * z, axis=0)
    it = 0
    while np.max(np.linalg.norm(r, axis=0) / norms) > tol:
        if it >= max_iter:
            raise RuntimeError(f"PCG did not reach tol={tol:g} in max_iter={max_iter} iterations "
                               f"(relative residual {np.max(np.linalg.norm(r, axis=0) / norms):.2e}); "
                               "raise rank or ridge")
        it += 1
        ap = a_op(p)
        pap = np.sum(p * ap, axis=0)
        step = np.divide(rz, pap, out=np.zeros_like(rz), where=pap > 0)
        alpha += step * p
        r -= step * ap
        if not np.all(np.isfinite(r)):
            raise FloatingPointError(f"PCG: non-finite residual at iteration {it}")
        z = precond(r)
        rz_new = np.sum(r * z, axis=0)
        beta = np.divide(rz_new, rz, out=np.zeros_like(rz), where=rz > 0)
        p = z + beta * p
        rz = rz_new
    final = np.linalg.norm(rhs - a_op(alpha), axis=0) / norms
    return SolveResult(alpha=alpha, iterations=it, relative_residual=final, ridge=ridge, rank=rank)


def mean_diagonal(k) -> float:
    """tr(K)/N for a square Dask array, tensor or array (the scale of a relative ridge)."""
    return float(np.mean(_as_operator(k)[2]))


def kernel_regression(k_train, y, k_test_train, *, ridge: float, relative: bool = True, rank: int = 500,
                      tol: float = 1e-10, max_iter: int = 1000, seed: int = 0) -> Regression:
    """Kernel regression K(x, X)(K + εI)⁻¹Y on tiled (or in-memory) kernels.

    With ``relative=True`` (neural-tangents' ``diag_reg`` convention, used by Lee et al. 2020)
    ε = ridge · tr(K)/N, so the same ``ridge`` means the same thing for NNGP and NTK and any N.

    Args:
        k_train: K(X, X), (N, N); k_test_train: K(x, X), (M, N) (Dask arrays, tensors or arrays).
        y: targets, (N,) or (N, C).
        ridge: the diagonal term (relative or absolute), > 0.
        relative, rank, tol, max_iter, seed: see above and ``pcg_solve``.

    Returns:
        ``Regression`` with test predictions (M, C).
    """
    ridge = check.finite_float("ridge", ridge, strictly_positive=True)
    eps = ridge * mean_diagonal(k_train) if relative else ridge
    solve = pcg_solve(k_train, y, eps, rank=rank, tol=tol, max_iter=max_iter, seed=seed)
    if hasattr(k_test_train, "dask"):
        import dask.array as da
        alpha = da.from_array(solve.alpha, chunks=(k_test_train.chunks[1], solve.alpha.shape[1]))
        test = np.asarray((k_test_train @ alpha).compute())
    else:
        kt = k_test_train.detach().cpu().numpy() if isinstance(k_test_train, torch.Tensor) else k_test_train
        test = np.asarray(kt, dtype=np.float64) @ solve.alpha
    return Regression(test=test, solve=solve)


def dask_client(address: str | None = None):
    """Make a ``dask.distributed`` client the default scheduler, or keep the local threads.

    Args:
        address: a scheduler address (``"tcp://host:8786"``), ``"local-cluster"`` for a
            ``LocalCluster`` of worker processes on this machine, or ``None``/``""`` for Dask's
            local threaded scheduler (nothing to start).

    Returns:
        The ``distributed.Client`` (close it when done), or ``None`` for the local threads.
    """
    if not address:
        return None
    if not isinstance(address, str):
        raise ValueError(f"dask_scheduler must be an address string, 'local-cluster' or empty, got {address!r}")
    from distributed import Client, LocalCluster

    if address == "local-cluster":
        return Client(LocalCluster(threads_per_worker=1, dashboard_address=None))
    return Client(address)
