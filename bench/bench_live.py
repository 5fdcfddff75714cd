"""The live reading in the browser: is it the server's reading, and how long does it take?

Usage: VP_DATA_DIR=../shared/data python -m bench.bench_live [--n 1000]

Draws the UNIPEN development digits (each with a random pen, size and place) on a 280-pixel canvas in headless
Chromium, reads each with static/live (the app's preprocessing in JavaScript, then each Draw network's ONNX copy
in onnxruntime-web, one thread) and reads the same pictures on the server's path (core.images.preprocess, Keras).
Prints how often the top digits agree, the mean difference of the probabilities, and the time in the browser
from the canvas' pixels to each network's answer (preprocessing included, measured in the page).
"""

from __future__ import annotations

import argparse
import os
import platform

import numpy as np

from bench.harness.live import compare
from core.data import unipen
from core.nets import registry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    records = unipen.load_unipen(file=unipen.DIGITS)[: args.n]
    found = compare(records, registry.DRAW_MODELS)
    print(f"# {platform.machine()}, {os.cpu_count()} cores; {found['drawings']} UNIPEN digits drawn in Chromium")
    print(f"28x28 inputs, browser against server: largest difference {found['input_max_difference']:.1e}")
    print(f"{'network':<10} {'same top digit':>15} {'mean |dp|':>10} {'median ms':>10} {'p95 ms':>8}")
    for m in registry.DRAW_MODELS:
        r = found[m]
        print(f"{m:<10} {r['same_top']:>15.1%} {r['mean_abs_difference']:>10.1e} {np.median(r['ms']):>10.1f} "
              f"{np.percentile(r['ms'], 95):>8.1f}")


if __name__ == "__main__":
    main()
