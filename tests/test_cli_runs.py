"""``python -m core run|runs|cancel`` through a subprocess, as a teacher's shell would use them.

All commands share one store (VP_HOME in a temporary folder); each ``run`` starts its own local Ray
cluster, so there is one real training here (tiny: 600 digits, one epoch).
"""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bench.harness import command_line
from core.base.paths import ROOT


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("vp_home_cli")


def cli(home: Path, *args: str, timeout: int = 300) -> command_line.Result:
    return command_line.cli(*args, env={"VP_HOME": str(home)}, timeout=timeout)


def recorded_runs(home: Path) -> int:
    """How many runs the store holds, read from its SQLite file (none when it does not exist yet)."""
    db = home / "mlflow.db"
    if not db.is_file():
        return 0
    with sqlite3.connect(db) as con:
        return con.execute("SELECT count(*) FROM runs").fetchone()[0]


def assert_clear_error(out: command_line.Result, *words: str) -> None:
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    errors = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, out.stderr[-3000:]
    for word in words:
        assert word in errors[0], errors[0]
    assert out.stdout.strip() == ""


@pytest.fixture(scope="module")
def cli_run(home):
    """One tiny run through ``python -m core run``."""
    return cli(home, "run", "--model", "net002", "--dataset", "mnist", "--epochs", "1", "--limit", "600",
               "--batch-size", "64", "--no-augment", "--polish-epochs", "0")


@pytest.mark.slow
def test_run_prints_one_json_line_and_exits_0(cli_run, home):
    assert cli_run.returncode == 0, cli_run.stderr[-3000:]
    lines = cli_run.stdout.splitlines()
    assert len(lines) == 1, cli_run.stdout
    result = json.loads(lines[0])
    assert result["status"] == "FINISHED"
    assert isinstance(result["run_id"], str) and len(result["run_id"]) == 32
    assert 0.0 <= result["test_accuracy"] <= 1.0
    assert result["model"] == "net002" and result["lab"] == "cli"
    assert result["config"]["limit"] == "600" and result["config"]["epochs"] == "1"
    assert recorded_runs(home) >= 1


@pytest.mark.slow
def test_runs_lists_one_json_line_per_run(cli_run, home):
    out = cli(home, "runs")
    assert out.returncode == 0, out.stderr[-3000:]
    listed = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(listed) == recorded_runs(home)
    mine = json.loads(cli_run.stdout.splitlines()[0])
    match = [r for r in listed if r["run_id"] == mine["run_id"]]
    assert len(match) == 1 and match[0]["status"] == "FINISHED"
    assert match[0]["test_accuracy"] == pytest.approx(mine["test_accuracy"])
    assert all({"run_id", "status", "model", "lab"} <= set(r) for r in listed)


@pytest.mark.parametrize("args, words", [
    (("--lr", "0"), ("learning rate", "above 0")),
    (("--dropout", "1.5"), ("dropout", "1.5")),
    (("--dataset", "cifar10"), ("net002", "mnist", "cifar10")),
], ids=["lr 0", "dropout 1.5", "MNIST model on cifar10"])
@pytest.mark.slow
def test_run_with_a_bad_config_exits_2_with_a_message_and_records_nothing(home, args, words):
    before = recorded_runs(home)
    out = cli(home, "run", "--model", "net002", "--epochs", "1", "--limit", "600", *args)
    assert out.returncode == 2, out.stderr[-3000:]
    assert_clear_error(out, *words)
    assert recorded_runs(home) == before


@pytest.mark.slow
def test_cancel_of_an_unknown_run_fails_with_a_clear_message(home):
    out = cli(home, "cancel", "0123456789abcdef0123456789abcdef")
    assert out.returncode != 0
    assert_clear_error(out, "no run", "0123456789abcdef0123456789abcdef")


REFUSED_HERE = """
import sys
from core import __main__ as cli
code = cli.main(["run", "--model", "net002", "--epochs", "1", "--lr", "0"])
print(code, "tensorflow" in sys.modules)
"""


def test_run_checks_its_config_without_loading_tensorflow(tmp_path):
    """``core run`` checks the config where it is typed and trains it in a worker: a bad setting is refused, and a
    good run handed over, without the launching process spending seconds on TensorFlow (``core.training.config``)."""
    env = command_line.environment({"VP_HOME": str(tmp_path)})
    out = subprocess.run([sys.executable, "-c", REFUSED_HERE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.split() == ["2", "False"], (out.stdout, out.stderr[-3000:])
    assert "learning rate" in out.stderr
    assert not (tmp_path / "mlflow.db").exists()  # refused before anything was recorded
