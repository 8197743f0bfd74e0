"""Every notebook through papermill at the smoke profile and with non-default parameters; the
results file it writes is well formed. (The default profile is re-executed by
``pytest --nbval-lax notebooks/``, which compares the stored claims table.)"""

import json
from pathlib import Path

import papermill as pm
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

# (notebook, parameters) pairs: smoke, then other architectures.
CASES = [
    ("01_gp_at_initialization", {}),
    ("01_gp_at_initialization", {"activation": "erf", "depths": [1, 2]}),
    ("01_gp_at_initialization", {"activation": "tanh", "depths": [3], "sigma_w": 1.5, "sigma_b": 0.0}),
    ("02_ntk_convergence_with_width", {}),
    ("02_ntk_convergence_with_width", {"activation": "erf", "depth": 3, "sigma_b": 0.5}),
    ("02_ntk_convergence_with_width", {"parameterization": "standard", "depth": 2}),
    ("03_positive_definiteness_on_the_sphere", {}),
    ("03_positive_definiteness_on_the_sphere", {"dim": 3, "sigma_b": 0.5, "activations": ["tanh", "relu"]}),
    ("04_eigendirection_convergence", {}),
    ("04_eigendirection_convergence", {"activation": "erf", "depth": 3, "eta": 10.0, "noise": 0.1}),
    ("05_linearization_fidelity", {}),
    ("05_linearization_fidelity", {"activation": "relu", "momentum": 0.9, "batch_size": 32}),
    ("05_linearization_fidelity", {"parameterization": "standard", "depth": 3}),
    ("06_ntk_gaussian_process", {}),
    ("06_ntk_gaussian_process", {"activation": "erf", "classes": [1, 7], "circle_targets": [0.1, -0.1, 0.2, 0.0],
                                 "jacot_inits": 3, "lee_widths": [32, 64], "lee_eta": 1.0}),
    ("07_expansion_parameter", {}),
    ("07_expansion_parameter", {"activation": "tanh", "sigma_w": 1.5, "sigma_b": 0.1, "depths": [2, 4]}),
    ("08_lazy_and_rich_regimes", {}),
    ("08_lazy_and_rich_regimes", {"d": 60, "n_train": 30, "sparsity": 2, "noise": 0.0, "n0": 10, "student_width": 20,
                                  "eta": 0.5, "widths": [40, 160]}),
    ("09_memorisation_and_interpolation", {}),
    ("09_memorisation_and_interpolation", {"n_train": 40, "fractions": [0.0, 0.25, 0.75, 1.0], "width": 128,
                                           "threshold": 0.05, "interp_fractions": [0.0, 0.4], "bandwidth": 0.5}),
    ("10_global_convergence", {}),
    ("10_global_convergence", {"n_train": 20, "dim": 5, "widths": [64, 128, 256], "fit_from": 64, "large_width": 128,
                               "pair_points": 6, "angles": [0.9, 0.6], "horizon": 4.0}),
    ("11_kernels_against_networks", {}),
    ("11_kernels_against_networks", {"depth": 3, "activation": "erf", "sigma_w": 1.2, "widths": [32, 96],
                                     "n_seeds": 2, "steps": 40, "curve_sizes": [40, 80, 160], "n_train": 150,
                                     "n_val": 30, "n_test": 100, "curve_test": 100}),
]


@pytest.fixture
def output_dirs(tmp_path, monkeypatch):
    dirs = {"results": tmp_path / "results", "figures": tmp_path / "figures"}
    monkeypatch.setenv("NTK_REPRO_RESULTS_DIR", str(dirs["results"]))
    monkeypatch.setenv("NTK_REPRO_FIGURES_DIR", str(dirs["figures"]))
    monkeypatch.setenv("NTK_REPRO_QUIET", "1")
    return dirs


@pytest.mark.parametrize("name, parameters", CASES, ids=lambda v: v if isinstance(v, str) else json.dumps(v))
def test_smoke_run(name, parameters, output_dirs, tmp_path):
    pm.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(tmp_path / f"{name}.ipynb"),
                        parameters={"profile": "smoke", **parameters}, kernel_name="python3",
                        progress_bar=False, cwd=str(NOTEBOOKS))
    result = json.loads((output_dirs["results"] / f"{name}.json").read_text())
    assert result["profile"] == "smoke"
    assert result["claims"], "the notebook states no claims"
    for claim in result["claims"]:
        assert {"name", "paper", "expected", "measured", "status"} <= set(claim)
        assert claim["status"] == "NOT ASSESSED"  # smoke judges nothing
    for key, value in parameters.items():
        assert result["parameters"][key] == value
    pngs = sorted(p.name for p in output_dirs["figures"].glob(f"{name}_*.png"))
    assert pngs and all((output_dirs["figures"] / p.replace(".png", ".pdf")).exists() for p in pngs)
