"""ntkutils: the helper package behind the ntk-repro notebooks.

Notebooks use the names below (``nu.X``), grouped by what they are; the modules behind them
each have one job (``../shared/DESIGN.md`` §2, README "The package"):

* networks: ``activations``, ``models``
* infinite-width kernels: ``kernels``, ``spectral`` (the kernel on the circle / sphere),
  ``tiled`` (the same kernels as Dask tiles beyond one machine's memory, and kernel regression
  on them by Nyström-preconditioned CG)
* empirical (finite-network) kernels: ``empirical``; the exact finite-width law of f(x) and
  Θ̂(x, x) at one input and its sampler: ``finite_width``
* closed-form dynamics: ``dynamics``
* training one net or many: ``training``, ``ensembles``
* lazy and rich models: ``diagonal`` (diagonal linear networks and their implicit bias Q_α),
  ``scaled`` (output-scaled two-layer networks, their closed-form NTK and training),
  ``two_layer_relu`` (Du et al.'s two-layer relu net, its Gram matrix H∞ and GD)
* the experiments of single notebooks, too large for a cell: ``width_convergence`` (02, Jacot
  et al. Fig. 1 and the rates in width), ``eigendirections`` (04, Jacot et al. §5),
  ``linearization`` (05, Lee et al. 2019), ``expansion`` (07, the expansion parameter β = L/n),
  ``regimes`` (08, lazy and rich regimes), ``memorisation`` (09, random labels and
  interpolation), ``global_convergence`` (10, Du et al.'s global convergence of GD),
  ``kernel_vs_network`` (11, NNGP/NTK regression against trained networks on real data)
* statistics: ``stats``, ``gp_checks``
* claims and the notebook context: ``claims``, ``notebook``
* figures: ``plotting``; data: ``data``; where files go: ``paths``; where numbers came from:
  ``provenance``
"""

from . import (activations, claims, data, diagonal, dynamics, eigendirections, empirical, ensembles, expansion,
               finite_width, global_convergence, gp_checks, kernel_vs_network, kernels, linearization, memorisation,
               models, notebook, paths, plotting, provenance, regimes, scaled, spectral, stats, tiled, training,
               two_layer_relu,
               width_convergence)

# networks
from .activations import ACTIVATIONS, Activation, get_activation
from .models import MLP

# infinite-width kernels
from .kernels import (FiniteWidthLaw, Kernels, LayerKernels, analytic_kernel_fn, analytic_kernels,
                      finite_width_law, one_hidden_layer_excess_kurtosis, relu_excess_kurtosis,
                      relu_kurtosis_standard_error, relu_output_moments)
from .tiled import (Regression, SolveResult, TiledKernels, choose_chunk, dask_client, kernel_regression,
                    memory_per_worker, nystrom_preconditioner, pcg_solve, tiled_kernels)
from .spectral import (Certificate, ReluCircleSpectra, analytic_circle_spectra, angle_error,
                       certificate_claim, certificate_report, certificate_summary, certify,
                       circle_spectrum, circle_spectrum_claims, circle_spectrum_error,
                       closed_form_deviation, correlation_error, deciding_certificate,
                       entrywise_error, harmonic_dimension, kernel_circle_spectrum,
                       kernel_error_bound, ntk_certificate, ntk_certificates, polynomial_ranks,
                       rank_claim, relu_circle_coefficients, relu_circle_fft_coefficients,
                       relu_circle_spectra)

# empirical kernels
from .empirical import (MonteCarloKernels, empirical_ntk, monte_carlo_kernels, network_kernel_fn,
                        network_kernels, readout_kernel, sample_outputs_at_init)
from .finite_width import (OutputAndNTK, one_hidden_layer_ntk_moments, relu_ntk_moments,
                           sample_output_and_ntk)

# closed-form dynamics
from .dynamics import (GaussianPrediction, JointGaussian, KernelBlocks, Prediction,
                       analytic_stability_bound, check_learning_rate, fit_rate_scale,
                       flatten_output_kernel, flow_vs_gd_shift, gd_decay_rates, gd_gaussian,
                       gp_prediction, gradient_descent_predict, gradient_flow_predict,
                       kernel_blocks, kernel_eigendecomposition, linearized_gd_predict,
                       max_learning_rate, nngp_readout_predict, ntk_gp_predict, rayleigh_quotients,
                       residual_projections)

# training
from .training import (NTKChange, TrainingRecord, train_full_batch, train_network,
                       train_ntk_change, width_scaled_learning_rate)
from .ensembles import (CircleStudy, EnsembleGPStudy, EnsembleRecord, circle_study,
                        ensemble_gp_study, ensemble_members, ensemble_variants,
                        figure_circle_curves, figure_ensemble_bands, figure_gaps,
                        linearized_ensemble, member_seeds, readout_trained_members, train_ensemble,
                        trained_curves, width_ensembles)

# lazy and rich models
from .diagonal import (DiagonalPath, SparseRegression, diagonal_net_gd, implicit_bias_solution,
                       min_l1_interpolant, min_l2_interpolant, q_alpha, sparse_regression)
from .scaled import (ScaledTraining, TwoLayerNets, train_output_scaled, two_layer_forward, two_layer_nets,
                     two_layer_ntk)
from .two_layer_relu import (ReluNets, ReluTraining, predicted_loss, relu_gram, relu_net_gram, relu_net_output,
                             relu_nets, train_relu_nets)

# the experiments of single notebooks, too large for a cell (02, 04, 05, 07, 08)
from .width_convergence import (InitConvergence, KernelBundles, LayerwiseConsistency, PooledMean,
                                StandardParameterisation, TrainingStability, WidthConvergence,
                                figure_init_convergence, figure_kernel_bundles, figure_pooled_mean,
                                figure_standard_parameterisation, figure_training_stability,
                                interval_upper_end)
from .eigendirections import (EarlyStopping, EigendirectionExperiment, Figure3Study,
                              InitialKernelLimit, KernelGrowth, RateStudy, SnapshotRun, Spectrum,
                              bound_args, collect_metrics, figure_3, figure_early_stopping,
                              figure_kernel_growth, figure_limit, figure_principal_components,
                              figure_rates, plot_early_stopping, plot_figure3, plot_kernel_growth,
                              plot_limit, plot_principal_components, plot_rates, print_and_save)
from .expansion import (ExpansionCell, ExpansionGrid, GrowthTest, LambdaMinStudy, LimitCoefficient,
                        MeanCorrection, TailStudy, TrainingChangeStudy, exact_ntk_exponents,
                        expansion_grid, figure_collapse, figure_lambda_min, figure_ntk_variance,
                        expansion_answer, figure_tail, figure_training_change, lambda_min_study, mean_correction,
                        ratio_standard_error, tail_study, training_change_study)
from .expansion import MEAN_CORRECTION_ARCHITECTURES, add_claims, mean_corrections
from .expansion import metrics as expansion_metrics
from .regimes import (CrossoverStudy, ImplicitBiasStudy, LazyScaleStudy, TeacherTask, WidthExponent,
                      crossover_study, figure_crossover, figure_implicit_bias, figure_lazy_scale,
                      implicit_bias_study, lazy_scale_study, regimes_answer, teacher_task, width_exponent,
                      woodworth_l2_epsilon)
from .regimes import add_claims as regimes_claims
from .regimes import metrics as regimes_metrics
from .memorisation import (BinaryTask, InterpolationStudy, MemorisationStudy, RankCorrelation, binary_digits,
                           complexity, complexity_by_fraction, corrupt_labels, cross_validated_ridge,
                           figure_interpolation, figure_memorisation, interpolation_study, kernel_gd,
                           laplace_kernel, memorisation_answer, memorisation_study, spearman_interval)
from .memorisation import add_claims as memorisation_claims
from .memorisation import metrics as memorisation_metrics
from .global_convergence import (ConvergenceStudy, PairSeparationStudy, close_pair_data, convergence_study,
                                 exponent_range, figure_convergence, figure_width_needed, pair_separation_study,
                                 random_labels, rate_factors, sufficient_width)
from .global_convergence import add_claims as global_convergence_claims
from .global_convergence import metrics as global_convergence_metrics
from .kernel_vs_network import (KernelResults, LearningCurves, NetworkResults, SpectralPredictor, curve_deviation,
                                figure_learning_curves, figure_networks, figure_regulariser, kernel_study,
                                learning_curves, load_classification_data, network_study, paired_difference)
from .kernel_vs_network import add_claims as kernel_vs_network_claims
from .kernel_vs_network import metrics as kernel_vs_network_metrics
from .linearization import (WidthStudy, linearization_runs, mean_accuracies, per_width,
                            scale_change, scaled_accuracy_gap, scaled_gap,
                            train_with_linearization, width_study)

# statistics
from .stats import (BootstrapResult, CovarianceCheck, InverseWidthBias, LogRatio, MaxZTest,
                    MeanTest, MomentEstimates, PooledWidthMean, SlopeFit, WidthLimit, add_jitter,
                    bonferroni_quantile, bootstrap_ci, bootstrap_loglog_slope,
                    classification_accuracy, covariance_check, decay_rate, excess_kurtosis,
                    interval_half_width, inverse_width_bias, inverse_width_limit, ks_normal, ks_two_sample,
                    log_mean_ratio, loglog_slope, loglog_slope_t, max_abs_z, max_ratio_deviation,
                    max_z_test, mean_abs_log_ratio, mean_max_deviation, mean_test, mmd2_blocks,
                    mmd2_unbiased, mmd_permutation_test, moment_estimates, pooled_width_mean,
                    power_law_with_correction, projection_ratio, relative_frobenius_error,
                    relative_gap, sample_gaussian)
from .gp_checks import (CurveCalibration, EnsembleComparison, EnsembleReport, EnsembleWidthStudy,
                        GapRatioCheck, LimitBands, MeanProjection, MomentStudy, PooledVariance,
                        band_fraction, band_fraction_interval, compare_ensemble_to_gaussian,
                        curve_calibration, curve_pit_distance, ensemble_report,
                        ensemble_width_study, gap_jackknife, gap_noise_floor, gap_ratio_check,
                        gap_ratio_null, gaps_to, limit_bands, mean_projection, mmd_against_gp,
                        moment_study, pit_distance, pit_distance_null, pit_values,
                        pooled_variance_ratio, prior_metrics, sample_prior)

# claims and the notebook context
from .claims import Claim, ClaimSet, cells_by_depth, load_results, relative_resolution, verdict_line
from .notebook import Notebook, Timer, resolve_profile, select_device, stream_seed

# figures
from .plotting import (HATCHES, LAYOUT_KEY, OKABE_ITO, band_plot, bound_legend, certificate_panel,
                       circle_curve_panels, covariance_panel, curve_bundles, eigenvalue_panel,
                       eigenvalue_panels, ensemble_band_panels, exponent_panel, gap_panels,
                       house_style, layout_problems, layout_report, legend_outside, new_figure,
                       linearization_panels, loglog_fits_panel, loglog_with_fit, mean_test_panel,
                       mmd_panel, moment_panels, percentile_band, plot_above_bound,
                       positive_errorbar, qq_panels, qq_plot, relu_spectrum_panels, save_figure,
                       slope_panel, spectrum_panel, use_house_style, width_ticks)

# data and files
from .data import (BinaryLineTask, LabelledData, MMDReference, circle, circle_grid,
                   digits_line_task, gaussian_inputs, load_cifar10, load_digits, load_mnist, load_mnist1d,
                   matthews_mmd_cells, matthews_mmd_reference, normalize_to_sphere, one_hot_split,
                   random_split, require_on_sphere, sphere_uniform)
from .paths import figures_dir, results_dir, stored_figures_dir, stored_results_dir
from .provenance import pin_report, provenance as run_provenance, suite_version

__version__ = suite_version()

__all__ = sorted(name for name in dir() if not name.startswith("_"))
