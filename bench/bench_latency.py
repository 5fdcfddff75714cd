"""Server-side time after a stroke: preprocessing, each model's call, and the prediction panel's compute.

Usage: VP_DATA_DIR=../shared/data python -m bench.bench_latency [--repeats 200]

Runs with the app's thread settings (one intra-op thread) so the figures are
those of the running app.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from core.base import device  # noqa: E402

device.configure_threads(intra_op=1, inter_op=1)

import numpy as np  # noqa: E402

from core.data import unipen  # noqa: E402
from core.images import preprocess, strokes  # noqa: E402
from core.nets import registry  # noqa: E402
from core.nets.inference import Predictor  # noqa: E402


def timed(fn, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus, 1 TensorFlow thread")
    records = unipen.load_unipen()[:20]
    rgbas = []
    for rec in records:
        rgba = np.zeros((280, 280, 4), np.uint8)
        rgba[..., 3] = 255
        rgba[..., :3] = strokes.render(strokes.canvas_paths(rec))[..., None]
        rgbas.append(rgba)
    i = iter(range(10**9))
    med, p95 = timed(lambda: preprocess.from_canvas(preprocess.canvas_to_gray(rgbas[next(i) % 20])), args.repeats)
    print(f"preprocess (canvas RGBA -> 28x28, with steps): median {med:.2f} ms, p95 {p95:.2f} ms")
    x = preprocess.from_canvas(preprocess.canvas_to_gray(rgbas[0])).image
    total = med
    for name in registry.DRAW_MODELS:
        p = Predictor.load(name)
        med, p95 = timed(lambda p=p: p.predict(x), args.repeats)
        total += med
        print(f"{name:8s} one call: median {med:.2f} ms, p95 {p95:.2f} ms  ({p.model.count_params():,} params)")
    print(f"preprocess + three models: {total:.1f} ms (medians summed)")


if __name__ == "__main__":
    main()
