"""The Explain page's figures: its server rerun after a stroke with every section open, per network; the
nearest-neighbour index's build time; and a query with scikit-learn against faiss (when installed).

Usage: VP_DATA_DIR=../shared/data python -m bench.bench_explain [--n 20] [--first-use dnn convnet resnet
[--built VP_HOME] [--no-wait]]
(``--first-use``: only a first visit's wait for section 4, on a cold cache and after the server-start build.)
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


def first_use(name: str, built: str | None = None, wait: bool = True) -> None:
    """A first visit's wait for section 4 (what the page does: its indexer, then a search), (a) on a fresh server
    with no features on disk, which answers from the first digits it reads in a few seconds and builds the rest in
    the background, and (b) after the server-start build (``build_ahead``) has finished, which searches all
    60,000 at once. ``built``: a VP_HOME where that build has run (``python -m core indexes``), else it runs here,
    and its time is reported."""
    model = registry.load(name)
    query = neighbours._training_digits()[0][:1]
    from core.nets.heads import embedding_model

    feature = np.asarray(embedding_model(model)(query, training=False))[0]
    os.environ["VP_HOME"] = built or tempfile.mkdtemp(prefix="bench_explain_ahead_")
    (ahead,) = neighbours.build_ahead((name,))
    t = time.perf_counter()
    indexer = neighbours.Indexer(name, model)
    assert indexer.complete, "the server-start build left no full index"
    indexer.index.nearest(feature, 8)
    visit_ahead = time.perf_counter() - t
    os.environ["VP_HOME"] = tempfile.mkdtemp(prefix="bench_explain_first_")
    t = time.perf_counter()
    indexer = neighbours.Indexer(name, model)
    indexer.start().nearest(feature, 8)
    answers, estimate, sample = time.perf_counter() - t, indexer.seconds_left(), len(indexer.index.labels)
    rest = "not waited for"
    if wait:
        next(th for th in threading.enumerate() if th.name == f"index-{name}").join()
        rest = f"{time.perf_counter() - t:.1f} s"
    build = f"{ahead['seconds']:.0f} s" if ahead["computed"] else "kept already"
    print(f"{name:8s} (a) cold cache: answers from the first {sample:,} in {answers:.1f} s (estimate of the rest "
          f"{estimate:.0f} s), all 60,000 after {rest}; (b) after the server-start build "
          f"({build}): all 60,000 in "
          f"{visit_ahead:.2f} s; load average {os.getloadavg()[0]:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--first-use", nargs="+", metavar="NETWORK")
    parser.add_argument("--built", metavar="VP_HOME", help="with --first-use: a VP_HOME where `python -m core "
                                                           "indexes` has run (else the build runs here)")
    parser.add_argument("--no-wait", action="store_true", help="with --first-use: not waiting for a cold "
                                                                "start's background build (minutes for the ResNet)")
    args = parser.parse_args()
    if args.first_use:
        for name in args.first_use:
            first_use(name, args.built, wait=not args.no_wait)
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
