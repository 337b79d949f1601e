"""The command line: outputs of the design contract, one-line errors, atomic writes."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import brian2_calcium
from brian2_calcium import parameter_sets, predict_pairs
from brian2_calcium.cli import main

STDP_COLUMNS = ["delta_t_ms", "U", "D", "S", "S_se", "S_analytic", "n_synapses"]


def test_sets_lists_every_parameter_set(capsys):
    assert main(["sets"]) == 0
    out = capsys.readouterr().out
    for name, p in parameter_sets().items():
        assert name in out
        assert p.source.split(":")[0] in out


def test_analytic_stdp_curve_writes_the_contract_csv_and_plot(tmp_path, capsys):
    from brian2 import Hz, ms

    csv, png = tmp_path / "out.csv", tmp_path / "out.png"
    argv = [
        "stdp-curve",
        "--engine",
        "analytic",
        "--set",
        "DP",
        "--csv",
        str(csv),
        "--plot",
        str(png),
    ]
    assert main(argv) == 0
    df = pd.read_csv(csv)
    assert list(df.columns) == STDP_COLUMNS
    assert len(df) == 101 and df.delta_t_ms.iloc[0] == -100 and df.delta_t_ms.iloc[-1] == 100
    expected = predict_pairs("DP", df.delta_t_ms.to_numpy() * ms, 1 * Hz, 60).S
    np.testing.assert_allclose(df.S, expected, atol=1e-5)  # CSV keeps 6 significant digits
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "wrote" in capsys.readouterr().out


def test_fast_stdp_curve_simulates_the_requested_synapses(tmp_path):
    csv = tmp_path / "fast.csv"
    argv = [
        "stdp-curve",
        "--points",
        "3",
        "--dt-min",
        "-20",
        "--dt-max",
        "20",
        "--synapses",
        "50",
        "--seed",
        "3",
        "--csv",
        str(csv),
        "--plot",
        "",
        "--quiet",
    ]
    assert main(argv) == 0
    df = pd.read_csv(csv)
    assert list(df.delta_t_ms) == [-20, 0, 20]
    assert (df.n_synapses == 50).all()
    # S within 4 SE + 0.015 of the theory (spec §4.6)
    assert np.all(np.abs(df.S - df.S_analytic) <= 4 * df.S_se + 0.015)


def test_frequency_curve_writes_one_row_per_frequency_and_delta_t(tmp_path):
    csv = tmp_path / "f.csv"
    argv = [
        "frequency-curve",
        "--engine",
        "analytic",
        "--frequencies",
        "1,20,50",
        "--csv",
        str(csv),
        "--plot",
        "",
    ]
    assert main(argv) == 0
    df = pd.read_csv(csv)
    assert len(df) == 6 and list(df.columns[:2]) == ["frequency_hz", "delta_t_ms"]
    # spec §4.3: cortical slices at 20 Hz, Δt = +10 ms
    row = df[(df.frequency_hz == 20) & (df.delta_t_ms == 10)]
    assert float(row.S.iloc[0]) == pytest.approx(1.2530, abs=1e-4)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["stdp-curve", "--set", "DQ"], "unknown parameter set 'DQ'; did you mean"),
        (["stdp-curve", "--points", "0"], "expected a positive integer"),
        (["stdp-curve", "--frequency", "-1"], "expected a positive number"),
        (["stdp-curve", "--dt-min", "nan"], "expected a finite number"),
        (["stdp-curve", "--dt-min", "10", "--dt-max", "-10"], "is below --dt-min"),
        (["stdp-curve", "--engine", "magic"], "invalid choice"),
        (["stdp-curve", "--dt-max", "1500", "--engine", "analytic"], "outside the protocol period"),
        (
            ["stdp-curve", "--csv", "/nonexistent/dir/x.csv", "--engine", "analytic"],
            "does not exist",
        ),
        (["frequency-curve", "--frequencies", "1,a"], "comma-separated"),
        (["no-such-command"], "invalid choice"),
    ],
)
def test_bad_input_gives_one_line_and_status_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_interrupted_write_leaves_no_partial_file(tmp_path, monkeypatch):
    csv = tmp_path / "curve.csv"

    def interrupted(self, path, *args, **kwargs):
        with open(path, "w") as f:
            f.write("delta_t_ms,U\n-100,0.3")  # half a table, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", interrupted)
    argv = ["stdp-curve", "--engine", "analytic", "--csv", str(csv), "--plot", ""]
    assert main(argv) == 130
    assert list(tmp_path.iterdir()) == []


def test_python_dash_m_is_the_same_command(tmp_path):
    # the package wherever this test imported it from (installed or in place)
    env = dict(os.environ, PYTHONPATH=str(Path(brian2_calcium.__file__).parents[1]))
    result = subprocess.run(
        [sys.executable, "-m", "brian2_calcium", "stdp-curve", "--set", "nonsense"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("brian2-calcium: error: unknown parameter set")
