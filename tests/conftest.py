import fcntl
import functools
import http.server
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("VP_DATA_DIR", str(ROOT.parent / "shared" / "data"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The tests' runs, caches and store live in a folder of their own, never in a developer's ~/.vision-playground.
os.environ["VP_HOME"] = tempfile.mkdtemp(prefix="vp_home_tests_")
# Except the features of MNIST's 60,000 training digits that the Explain page's nearest-neighbour index is made
# of (about 40 s for the ResNet here): kept between test sessions, keyed by model file as the app keys them, so
# the developer's loop pays for them once. A fresh clone (CI) computes them.
EMBEDDINGS = ROOT / ".pytest_cache" / "vp-embeddings"


def keep_embeddings(home: Path) -> None:
    """Point ``home``'s cache of training-digit features at the folder kept between test sessions."""
    EMBEDDINGS.mkdir(parents=True, exist_ok=True)
    (home / "cache").mkdir(parents=True, exist_ok=True)
    (home / "cache" / "embeddings").symlink_to(EMBEDDINGS, target_is_directory=True)


keep_embeddings(Path(os.environ["VP_HOME"]))
# Built data sets (the handwriting set: minutes to build) are made once per test run, in one folder for the whole
# run that pytest-xdist's workers inherit from the process that starts them (see ``shared_cache``).
SHARED_ENV = "VP_TESTS_SHARED_CACHE"
_SHARED_HERE = SHARED_ENV not in os.environ  # this process made the folder, and removes it at the end
if _SHARED_HERE:
    os.environ[SHARED_ENV] = tempfile.mkdtemp(prefix="vp_tests_shared_")
SHARED_CACHE = Path(os.environ[SHARED_ENV])
os.environ.pop("MLFLOW_TRACKING_URI", None)
os.environ.pop("RAY_ADDRESS", None)
# A server started by a test does not compute the Explain page's indexes at its start (each would, in its own
# VP_HOME, on the cores the other tests share); the test of that start sets it back to 1.
os.environ["VP_INDEX_AHEAD"] = "0"


# What the fast subset may not start (tests/guard.py); the tests whose data is missing (tests/needs.py).
pytest_plugins = ["tests.guard", "tests.needs", "pytester"]

UNIPEN_FIXTURE = ROOT / "tests" / "data" / "unipen_fixture.jsonl"  # 40 digits; see tests/data/UNIPEN_ATTRIBUTION.md


# Seconds the longest test files took in a full run (``-n 2 --dist loadfile --durations=0``, two cores). pytest-xdist
# hands out whole files, by default those with the most tests first, which put the longest ones (a few tests each)
# in the second half of the run, where a worker can end alone on one; handed out longest first, each worker ends on
# short files and the two end together. The other files (under a minute each) follow in collection order. A stale
# figure only changes the order.
LONGEST_FILES = {
    "test_presets_teach.py": 460, "test_handwriting.py": 435, "test_engine.py": 320, "test_lab_pages.py": 230,
    "test_classroom_training.py": 120, "test_remote_cluster.py": 117, "test_browser.py": 117,
    "test_misconfig.py": 104, "test_cifar_transfer.py": 103, "test_tour_browser.py": 80, "test_lab_browser.py": 71,
    "test_live_reading.py": 64, "test_cli_classes.py": 59, "test_cli_runs.py": 50, "test_tiny_imagenet.py": 41,
    "test_transfer_browser.py": 38,
}


def pytest_configure(config):
    if hasattr(config.option, "loadscopereorder"):  # pytest-xdist: keep the order below (see LONGEST_FILES)
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items):
    """The longest files first (``LONGEST_FILES``); each file's tests stay in their order."""
    items.sort(key=lambda item: -LONGEST_FILES.get(item.path.name, 0))


CPU_LOG = os.environ.get("VP_TEST_CPU")  # a file: each test's CPU seconds are appended to it as a JSON line


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """With ``VP_TEST_CPU`` set, what each test (its setup and teardown too) cost the CPU: the test process's
    CPU seconds and those of the subprocesses it waited for. On a busy machine the durations count waiting for
    the cores; CPU seconds do not (Ray's workers, children of Ray's daemons, are not counted)."""
    if not CPU_LOG:
        yield
        return
    import json
    import resource
    import time

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started, wall = time.process_time(), time.perf_counter()
    yield
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    waited = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    line = json.dumps({"test": item.nodeid, "cpu_s": round(time.process_time() - started, 2),
                       "children_cpu_s": round(waited, 2), "wall_s": round(time.perf_counter() - wall, 2)})
    with open(CPU_LOG, "a") as log:
        log.write(line + "\n")


def pytest_unconfigure(config):
    if _SHARED_HERE:
        shutil.rmtree(SHARED_CACHE, ignore_errors=True)


@pytest.fixture
def shared_cache(monkeypatch):
    """A built data set made at most once per test run: ``shared_cache(name)`` loads it, and the test's cache
    folder (``paths.cache_dir``) is the run's shared one. Sharing is safe because a cached copy is named by what
    it is made from (``core.base.array_cache``: source files, recipe code), so no test reads a copy made from other
    inputs. The first load is under a lock: of two workers that need the set at once, one builds it and the
    other waits and reads it."""
    from core.base import paths
    from core.data import datasets

    monkeypatch.setattr(paths, "cache_dir", lambda: SHARED_CACHE)

    def load(name: str):
        with open(SHARED_CACHE / f".{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            return datasets.load_dataset(name, download=False)

    return load


@pytest.fixture(scope="session")
def unipen():
    """Real pen-drawn digits: the data folder's 1,000, else the 40 shipped with the tests (4 per digit)."""
    from core.data import datasets, unipen

    folder = datasets.data_dir()
    if folder is not None and (folder / "unipen_dev_digits.jsonl").is_file():
        return unipen.load_unipen()
    return unipen.load_unipen(UNIPEN_FIXTURE)


@pytest.fixture
def digit_gray(unipen):
    """A real drawn 7, rendered as the canvas draws it (white on black, 280x280, float in [0, 1])."""
    from core.images import strokes

    rec = next(r for r in unipen if r["label"] == 7)
    return strokes.render(strokes.canvas_paths(rec, box=160)).astype(np.float32) / 255.0


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """One app server for the real-browser tests that only look at pages (draw, read, measure): on an empty run
    store of its own, started at the first such test and kept to the end. Each module starting its own would start
    Streamlit and load every network again, a minute or more each on a busy 2-core machine. (Chromium stays one a
    module: Playwright's sync API does not nest.) Tests that launch runs keep a server of their own."""
    from bench.harness import browser

    home = tmp_path_factory.mktemp("vp_home_app_server")
    keep_embeddings(home)  # its start computes the nearest-digit indexes only where no test process has
    with browser.serve(env={"VP_HOME": str(home)}) as (url, _):
        yield url


@pytest.fixture
def fresh_clone(tmp_path, monkeypatch):
    """A fresh clone's models: ``fresh_clone(name)`` copies the shipped model's bytes into a models folder of its
    own (``registry.MODELS_DIR``), with a ``VP_HOME`` of its own, and returns the copy's path."""
    from core.nets import registry

    monkeypatch.setenv("VP_HOME", str(tmp_path / "home"))
    shipped = registry.MODELS_DIR
    monkeypatch.setattr(registry, "MODELS_DIR", tmp_path / "models")
    (tmp_path / "models").mkdir()

    def clone(name: str) -> Path:
        copy = tmp_path / "models" / f"{name}.keras"
        copy.write_bytes((shipped / f"{name}.keras").read_bytes())
        return copy

    return clone


ENGINE_ENV = ("VP_HOME", "MLFLOW_TRACKING_URI", "RAY_ADDRESS")


@pytest.fixture(scope="session")
def run_store(tmp_path_factory):
    """A private run store for the whole session: VP_HOME in a temporary folder, the SQLite store under it.

    Enough for the tests that only record and read runs (the lab pages, the store's own checks); no Ray
    cluster starts, so ``pytest -m "not slow"`` stays quick. The environment is restored at the end.
    """
    home = tmp_path_factory.mktemp("vp_home")
    keep_embeddings(home)
    saved = {key: os.environ.get(key) for key in ENGINE_ENV}
    os.environ["VP_HOME"] = str(home)
    os.environ.pop("MLFLOW_TRACKING_URI", None)  # the store is the SQLite file under VP_HOME
    os.environ.pop("RAY_ADDRESS", None)  # a private local cluster, never a shared one
    from core.lab import runs

    try:
        assert runs.tracking_uri() == f"sqlite:///{home / 'mlflow.db'}"
        yield home
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def engine_home(run_store):
    """The session's run store and one local Ray cluster, for the tests that train; shut down at the end."""
    from core.lab import engine

    try:
        engine.connect()
        yield run_store
    finally:
        import ray

        ray.shutdown()


@pytest.fixture
def fake_engine(run_store, monkeypatch):
    """The run engine without Ray: a launch records a queued run and nothing trains. Yields the launched runs."""
    from core.lab import engine, runs

    launched: list[runs.RunInfo] = []

    def launch(config, lab, group=None, varied=()):
        config.validate()
        run = runs.create(config.params() | {"dataset": config.dataset, "learning_rate": config.lr}, config.model,
                          lab, "local", {runs.Tag.GROUP: group or ""})
        launched.append(run)
        return run

    monkeypatch.setattr(engine, "launch", launch)
    monkeypatch.setattr(engine, "connected", lambda: True)
    try:
        yield launched
    finally:
        for run in launched:
            runs.finish(run.run_id, "KILLED")


@pytest.fixture
def http_folder(tmp_path):
    """A local HTTP server over the folder ``tmp_path/www``: (that folder, its base URL). Downloads in tests come
    from here; nothing leaves the machine."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
