"""Outgrowing one machine: ``python -m core`` against a Ray head started with ``ray start --head`` and an MLflow
tracking server, as the README tells a class to set them up (RAY_ADDRESS, MLFLOW_TRACKING_URI).

Both are started here, on free ports with files in temporary folders, and stopped at the end (the head by its
own processes, never ``ray stop``, which would end every cluster on the machine).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from bench.harness.browser import free_port
from bench.harness.command_line import cli, start
from bench.harness.misconfig import start_head, stop_head
from tests.pages import open_page

pytestmark = pytest.mark.slow
TINY = ("--model", "net002", "--epochs", "2", "--limit", "600", "--batch-size", "64", "--no-augment",
        "--polish-epochs", "0")
SERVER_START_S = 240


def wait_until(check, timeout_s: float, what: str, every_s: float = 0.5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every_s)
    pytest.fail(f"no {what} within {timeout_s:.0f} s")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A Ray head and an MLflow server (SQLite backend, artifacts served from a folder): their settings."""
    tmp = tmp_path_factory.mktemp("remote")
    temp_dir = Path(tempfile.mkdtemp(prefix="vp_ray_", dir="/tmp"))  # short: Ray's socket paths have a limit
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "MLFLOW_"))}
    env |= {"HOME": str(tmp / "home"), "VP_HOME": str(tmp / "vp")}
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
                               "--backend-store-uri", f"sqlite:///{tmp / 'server.db'}",
                               "--artifacts-destination", str(tmp / "served"), "--workers", "1"],
                              env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        ray_port = start_head(temp_dir, env, num_cpus=2)
        uri = f"http://127.0.0.1:{port}"
        wait_until(lambda: answers(f"{uri}/health"), SERVER_START_S, "MLflow server")
        yield {"env": env | {"RAY_ADDRESS": f"127.0.0.1:{ray_port}", "MLFLOW_TRACKING_URI": uri},
               "temp_dir": temp_dir, "served": tmp / "served", "uri": uri}
    finally:
        os.killpg(server.pid, 9)
        server.wait()
        stop_head(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)


HEAD_NODE = """
import ray
ray.init(address="{address}")
print(ray.get_runtime_context().get_node_id())
"""


@pytest.fixture(scope="module")
def remote_run(cluster):
    out = cli("run", *TINY, env=cluster["env"], timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert len(lines) == 1, out.stdout  # the JSON alone: no "View run" line, no "(raylet)" line
    return json.loads(lines[0])


def store_client(cluster):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=cluster["uri"])


def test_a_run_trains_on_the_head_and_is_recorded_by_the_server(cluster, remote_run):
    assert remote_run["status"] == "FINISHED"
    head = subprocess.run([sys.executable, "-c", HEAD_NODE.format(address=cluster["env"]["RAY_ADDRESS"])],
                          env=cluster["env"], capture_output=True, text=True, timeout=180)
    assert head.returncode == 0, head.stderr[-3000:]
    run = store_client(cluster).get_run(remote_run["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.tags["vp.node"] == head.stdout.strip()  # that head ran it
    assert run.data.tags["vp.cluster"] == cluster["env"]["RAY_ADDRESS"]
    history = store_client(cluster).get_metric_history(remote_run["run_id"], "val_accuracy")
    assert sorted(m.step for m in history) == [1, 2]  # per-epoch curves
    # The model went through the server into its artifacts folder.
    assert run.info.artifact_uri.startswith("mlflow-artifacts:")
    assert list(cluster["served"].rglob("model/net002.keras")), list(cluster["served"].rglob("*"))


def test_runs_and_cancel_work_against_the_server(cluster, remote_run):
    out = cli("runs", env=cluster["env"])
    assert out.returncode == 0, out.stderr[-3000:]
    listed = {r["run_id"]: r for r in map(json.loads, out.stdout.splitlines())}
    assert listed[remote_run["run_id"]]["status"] == "FINISHED"
    long = start("run", *TINY[:2], "--epochs", "200", "--limit", "1000", "--batch-size", "16", "--no-augment",
                 env=cluster["env"])
    try:
        c = store_client(cluster)

        def training():
            found = c.search_runs([e.experiment_id for e in c.search_experiments()], "attributes.status = 'RUNNING'")
            return next((r.info.run_id for r in found if "progress" in r.data.metrics), None)

        run_id = wait_until(training, 600, "training run on the head", every_s=1)
        out = cli("cancel", run_id, env=cluster["env"])
        assert out.returncode == 0, out.stderr[-3000:]
        assert json.loads(out.stdout) == {"run_id": run_id, "status": "KILLED"}
        stdout, _ = long.communicate(timeout=120)
        assert json.loads(stdout)["status"] == "KILLED"
    finally:
        long.kill()


def test_the_compare_page_lists_the_run(cluster, remote_run, run_store, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", cluster["uri"])
    at = open_page("compare")
    table = at.dataframe[0].value
    assert any(label.startswith("Net 002, run ") for label in table["network"]), table["network"]
