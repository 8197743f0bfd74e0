"""The notebook context (``nu.Notebook``): knobs read once from the parameters cell's namespace,
profile values filled in, explicit values winning, clear errors, results and figures written
where the environment says."""

import json

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import ntkutils as nu  # noqa: E402

PROFILES = {"smoke": {"widths": [8, 16], "n_seeds": 2},
            "default": {"widths": [64, 128], "n_seeds": 5}}


def cell(**overrides):
    """The namespace right after a parameters cell (plus the noise a kernel has)."""
    namespace = dict(profile="default", seed=3, device="cpu", widths=None, n_seeds=None,
                     depth=4, activation="relu", In=["x"], Out={}, math=__import__("math"),
                     PROFILES=PROFILES, _hidden=1)
    return namespace | overrides


def test_profile_values_fill_none_knobs_and_explicit_values_win(tmp_path, monkeypatch):
    monkeypatch.setenv("NTK_REPRO_RESULTS_DIR", str(tmp_path / "r"))
    nb = nu.Notebook("99_example", PROFILES, cell(n_seeds=7))
    assert nb.p.widths == [64, 128] and nb.p.n_seeds == 7 and nb.p.depth == 4
    assert nb.profile == "default" and nb.seed == 3 and nb.device.type == "cpu"
    assert not hasattr(nb.p, "In") and not hasattr(nb.p, "math") and not hasattr(nb.p, "PROFILES")
    assert nb.claims.notebook == "99_example" and nb.claims.assess
    assert nu.Notebook("99_example", PROFILES, cell(profile="smoke")).claims.assess is False


def test_bad_set_up_raises_naming_the_problem():
    with pytest.raises(ValueError, match="profile"):
        nu.Notebook("99_example", PROFILES, cell(profile="fast"))
    with pytest.raises(ValueError, match="device"):
        nu.Notebook("99_example", PROFILES, cell(device="tpu"))
    with pytest.raises(ValueError, match=r"\['seed'\]"):
        nu.Notebook("99_example", PROFILES, {k: v for k, v in cell().items() if k != "seed"})
    with pytest.raises(ValueError, match="n_seeds"):
        nu.Notebook("99_example", PROFILES, {k: v for k, v in cell().items() if k != "n_seeds"})
    with pytest.raises(ValueError, match="seed"):
        nu.Notebook("99_example", PROFILES, cell(seed=-1))


def test_seed_for_is_stream_seed_of_the_run_seed():
    nb = nu.Notebook("99_example", PROFILES, cell(seed=5))
    assert nb.seed_for(2, 64) == nu.stream_seed(5, 2, 64)
    assert nb.seed_for(2, 64) != nu.Notebook("99_example", PROFILES, cell(seed=6)).seed_for(2, 64)


def test_savefig_and_finish_write_where_the_environment_says(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NTK_REPRO_RESULTS_DIR", str(tmp_path / "r"))
    monkeypatch.setenv("NTK_REPRO_FIGURES_DIR", str(tmp_path / "f"))
    nb = nu.Notebook("99_example", PROFILES, cell())
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    nb.savefig(fig, "panel")
    plt.close(fig)
    nb.claims.less_than("x below 1", "nobody", 0.5, 1.0, alpha=0.0, resolution=0.5,
                        resolution_kind="interval")
    nb.finish({"x": 0.5}, extra=2)
    assert (tmp_path / "f" / "99_example_panel.png").exists()
    body = json.loads((tmp_path / "r" / "99_example.json").read_text())
    assert body["parameters"]["widths"] == [64, 128] and body["parameters"]["extra"] == 2
    assert body["seed"] == 3 and body["device"] == "cpu" and body["metrics"] == {"x": 0.5}
    assert "99_example_{panel}.{pdf,png}" in capsys.readouterr().out


def test_stream_seed_is_seedsequence_and_validates():
    import numpy as np

    expected = int(np.random.SeedSequence([1, 2]).generate_state(1, dtype=np.uint64)[0] >> 1)
    assert nu.stream_seed(1, 2) == expected
    assert len({nu.stream_seed(s, e) for s in range(20) for e in range(20)}) == 400
    for bad in [(), (-1,), (1.5,), (True,)]:
        with pytest.raises(ValueError, match="keys"):
            nu.stream_seed(*bad)
