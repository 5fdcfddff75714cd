"""First visits of the Data sets and Compare pages: what reading each data set whole costs, against the shipped
overviews (``python -m core previews``) and answers (``python -m core answers``) the pages read instead.

Usage: VP_DATA_DIR=../shared/data python -m bench.bench_datasets [--sets mnist greek cifar10 handwriting]

Each set is read in a fresh ``VP_HOME`` (no cached copy: a first visit after install), then again (the cached
copy). ``datasets.FIRST_READ_S`` holds the first-read figures the pages' spinners state.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=["mnist", "greek", "cifar10", "handwriting"])
    args = parser.parse_args()
    os.environ["VP_HOME"] = tempfile.mkdtemp(prefix="vp_bench_datasets_")
    from core.data import datasets, previews
    from core.lab import evaluation
    from core.nets import registry

    print(f"{platform.node()}, {os.cpu_count()} CPUs; fresh VP_HOME {os.environ['VP_HOME']}")
    for name in args.sets:
        t = time.perf_counter()
        previews.overview(name)
        overview_s = time.perf_counter() - t
        t = time.perf_counter()
        datasets.load_dataset(name, download=False)
        first_s = time.perf_counter() - t
        t = time.perf_counter()
        datasets.load_dataset(name, download=False)
        again_s = time.perf_counter() - t
        print(f"{name:12s} overview {overview_s:6.2f} s | whole set: first {first_s:6.1f} s, again {again_s:5.1f} s")
    for name in registry.available(dataset=None):
        t = time.perf_counter()
        shipped = evaluation.shipped_answers(name)
        print(f"{name:14s} shipped answers {'read' if shipped is not None else 'MISSING'} in "
              f"{time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
