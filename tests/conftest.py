import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("VP_DATA_DIR", str(ROOT.parent / "shared" / "data"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The tests' runs, caches and store live in a folder of their own, never in a developer's ~/.vision-playground.
os.environ["VP_HOME"] = tempfile.mkdtemp(prefix="vp_home_tests_")
os.environ.pop("MLFLOW_TRACKING_URI", None)
os.environ.pop("RAY_ADDRESS", None)


UNIPEN_FIXTURE = ROOT / "tests" / "data" / "unipen_fixture.jsonl"  # 40 digits; see tests/data/UNIPEN_ATTRIBUTION.md


@pytest.fixture(scope="session")
def unipen():
    """Real pen-drawn digits: the data folder's 1,000, else the 40 shipped with the tests (4 per digit)."""
    from core import data, strokes

    folder = data.data_dir()
    if folder is not None and (folder / "unipen_dev_digits.jsonl").is_file():
        return strokes.load_unipen()
    return strokes.load_unipen(UNIPEN_FIXTURE)


@pytest.fixture
def digit_gray(unipen):
    """A real drawn 7, rendered as the canvas draws it (white on black, 280x280, float in [0, 1])."""
    from core import strokes

    rec = next(r for r in unipen if r["label"] == 7)
    return strokes.render(strokes.canvas_paths(rec, box=160)).astype(np.float32) / 255.0


ENGINE_ENV = ("VP_HOME", "MLFLOW_TRACKING_URI", "RAY_ADDRESS")


@pytest.fixture(scope="session")
def engine_home(tmp_path_factory):
    """A private run store (VP_HOME in a temporary folder) and one local Ray cluster for the whole session.

    The environment is restored and Ray shut down at the end, so no test writes to ~/.vision-playground.
    """
    home = tmp_path_factory.mktemp("vp_home")
    saved = {key: os.environ.get(key) for key in ENGINE_ENV}
    os.environ["VP_HOME"] = str(home)
    os.environ.pop("MLFLOW_TRACKING_URI", None)  # the store is the SQLite file under VP_HOME
    os.environ.pop("RAY_ADDRESS", None)  # a private local cluster, never a shared one
    from core import engine, runs

    try:
        engine.connect()
        assert runs.tracking_uri() == f"sqlite:///{home / 'mlflow.db'}"
        yield home
    finally:
        import ray

        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
