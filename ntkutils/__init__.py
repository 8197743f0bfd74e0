"""ntkutils: the helper package behind the ntk-repro notebooks.

The public surface (see the README): networks (``MLP``), infinite-width kernels
(``analytic_kernels``), empirical kernels (``empirical_ntk``, ``monte_carlo_kernels``),
closed-form dynamics (``gradient_flow_predict`` …), training (``train_full_batch``,
``train_ensemble``) and data.
Modules: ``activations``, ``models``, ``kernels``, ``empirical``, ``dynamics``, ``training``,
``ensembles``, ``gp_checks``, ``data``, ``stats``, ``claims``, ``plotting``, ``paths``.
"""

from . import activations, claims, data, dynamics, empirical, ensembles, gp_checks, kernels, models, paths, plotting, profiles, stats, training
from . import spectral
from .activations import ACTIVATIONS, get_activation
from .claims import Claim, ClaimSet, load_results
from .dynamics import (
    GaussianPrediction,
    Prediction,
    check_learning_rate,
    gradient_descent_predict,
    KernelBlocks,
    gp_prediction,
    kernel_blocks,
    gradient_flow_predict,
    kernel_eigendecomposition,
    max_learning_rate,
    nngp_readout_predict,
    ntk_gp_predict,
    residual_projections,
)
from .ensembles import (
    EnsembleRecord,
    ensemble_variants,
    linearized_ensemble,
    network_kernel_fn,
    network_kernels,
    readout_kernel,
    train_ensemble,
)
from .empirical import MonteCarloKernels, empirical_ntk, monte_carlo_kernels, sample_outputs_at_init
from .kernels import Kernels, LayerKernels, analytic_kernel_fn, analytic_kernels
from .models import MLP
from .paths import figures_dir, results_dir
from .plotting import band_plot, house_style, loglog_with_fit, qq_plot, save_figure, use_house_style
from .stats import (
    BootstrapResult,
    SlopeFit,
    bootstrap_ci,
    excess_kurtosis,
    ks_normal,
    loglog_slope,
    mmd2_unbiased,
    mmd_permutation_test,
    relative_frobenius_error,
)
from .training import TrainingRecord, train_full_batch

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS", "GaussianPrediction", "Kernels", "LayerKernels", "MLP", "MonteCarloKernels",
    "Prediction", "TrainingRecord", "analytic_kernels", "check_learning_rate", "data",
    "dynamics", "empirical", "empirical_ntk", "get_activation", "gradient_descent_predict",
    "gradient_flow_predict", "kernel_eigendecomposition", "kernels", "max_learning_rate",
    "models", "monte_carlo_kernels", "sample_outputs_at_init", "nngp_readout_predict", "ntk_gp_predict",
    "residual_projections", "train_full_batch", "train_ensemble", "readout_kernel", "EnsembleRecord", "ensembles", "linearized_ensemble",
    "network_kernels", "gp_checks", "ensemble_variants", "network_kernel_fn", "analytic_kernel_fn",
    "gp_prediction", "kernel_blocks", "KernelBlocks", "training", "activations",
    "Claim", "ClaimSet", "load_results", "claims", "paths", "plotting", "stats",
    "figures_dir", "results_dir", "band_plot", "house_style", "loglog_with_fit", "save_figure",
    "use_house_style", "qq_plot", "profiles", "BootstrapResult", "SlopeFit", "bootstrap_ci", "excess_kurtosis",
    "ks_normal", "loglog_slope", "mmd2_unbiased", "mmd_permutation_test", "relative_frobenius_error",
    "spectral",
]
