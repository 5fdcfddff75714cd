"""The Explain page's figures: its server rerun after a stroke with every section open, per network; the
nearest-neighbour index's build time; and a query with scikit-learn against faiss (when installed).

Usage: VP_DATA_DIR=../shared/data python -m bench.bench_explain [--n 20] [--first-use dnn resnet]
(``--first-use``: only a first visit's wait for section 4, with a sample index and with the full one.)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ["VP_HOME"] = tempfile.mkdtemp(prefix="bench_explain_")  # a cold index cache, as on a fresh machine

import numpy as np  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

from bench.bench_pages import rerun_times  # noqa: E402
from core.base import device  # noqa: E402
from core.data import unipen  # noqa: E402
from core.explain import neighbours  # noqa: E402
from core.images import strokes  # noqa: E402
from core.nets import registry  # noqa: E402
from core.nets.inference import Predictor  # noqa: E402


def index_figures(name: str) -> None:
    model = registry.load(name)
    t = time.perf_counter()
    index = neighbours.build_index(name, model)
    build = time.perf_counter() - t
    queries = index.features[np.random.default_rng(0).choice(len(index.features), 50)]
    times = []
    for q in queries:
        t = time.perf_counter()
        index.nearest(q, 8)
        times.append((time.perf_counter() - t) * 1000)
    brute = NearestNeighbors(algorithm="brute").fit(index.features)  # the alternative the app does not use
    sk_times = []
    for q in queries:
        t = time.perf_counter()
        brute.kneighbors(q[None], n_neighbors=8)
        sk_times.append((time.perf_counter() - t) * 1000)
    print(f"{name:8s} index of 60,000 digits ({index.features.shape[1]} features): built in {build:.1f} s; "
          f"query faiss flat (the app's) {statistics.median(times):.2f} ms, scikit-learn brute "
          f"{statistics.median(sk_times):.2f} ms", flush=True)


def first_use(name: str) -> None:
    """A first visit on a fresh server (no features on disk): the wait before section 4 can answer, from the
    first digits it reads in a few seconds, and until it searches all 60,000 (built in the background); against
    building them all before answering, as the page did before."""
    model = registry.load(name)
    os.environ["VP_HOME"] = tempfile.mkdtemp(prefix="bench_explain_all_")
    t = time.perf_counter()
    neighbours.build_index(name, model)
    everything = time.perf_counter() - t
    os.environ["VP_HOME"] = tempfile.mkdtemp(prefix="bench_explain_first_")
    t = time.perf_counter()
    indexer = neighbours.Indexer(name, model)
    indexer.start()
    answers, estimate, sample = time.perf_counter() - t, indexer.seconds_left(), len(indexer.index.labels)
    next(th for th in threading.enumerate() if th.name == f"index-{name}").join()
    print(f"{name:8s} first use: all 60,000 before answering {everything:.1f} s; the first "
          f"{sample:,} {answers:.1f} s (the page's estimate of the rest: {estimate:.0f} s), all of them "
          f"{time.perf_counter() - t:.1f} s (background); load average {os.getloadavg()[0]:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--first-use", nargs="+", metavar="NETWORK")
    args = parser.parse_args()
    if args.first_use:
        for name in args.first_use:
            first_use(name)
        return
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus, {device.device_label()}")
    for name in ("dnn", "convnet", "resnet", "net002"):
        index_figures(name)
    device.configure_threads(1, 1)  # as the app does
    Predictor.load("resnet")
    drawings = [strokes.render(strokes.canvas_paths(r)) / 255.0 for r in unipen.load_unipen()[: args.n + 2]]
    for name in ("dnn", "convnet", "resnet", "net002"):
        def pick(at, name=name):
            at.selectbox(key="explain_model").set_value(name)
        times = sorted(rerun_times("app_pages/explain.py", drawings, setup=pick))
        print(f"Explain page ({name}), all four sections, rerun after a stroke: median "
              f"{statistics.median(times):.0f} ms, p90 {times[int(0.9 * (len(times) - 1))]:.0f} ms", flush=True)
    times = sorted(rerun_times(None, drawings))
    print(f"Draw page rerun after a stroke (for scale): median {statistics.median(times):.0f} ms")


if __name__ == "__main__":
    main()
