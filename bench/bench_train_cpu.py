"""What a quick run costs the CPU, by how TensorFlow is set up: threads and XLA.

Usage: VP_DATA_DIR=../shared/data python -m bench.bench_train_cpu [--model convnet] [--lr 0.001]

Trains the Learning rate page's quick preset (``presets.preset("quick")``) in fresh processes, each timed by
its own CPU seconds (user + system, from ``resource.getrusage``) and its wall time, in four setups:

- ``alone``: one run, TensorFlow's default thread pools (a laptop training one run);
- ``alone-xla``: the same with every ``model.compile`` given ``jit_compile=True`` (XLA on the CPU);
- ``pair``: two runs side by side at the default pools (two cores shared by two runs);
- ``pair-1-thread``: two runs side by side at one intra-op thread each, as the engine's Ray workers run
  (``OMP_NUM_THREADS=1``) and the quick-table test trains.

Where the cores are all busy (a test suite, a sweep) only CPU seconds matter: a setup that ends sooner alone but
spends as many CPU seconds gains nothing there.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

SETUPS = {  # name: (runs side by side, intra-op threads or None for the default, XLA)
    "alone": (1, None, False),
    "alone-xla": (1, None, True),
    "pair": (2, None, False),
    "pair-1-thread": (2, 1, False),
}


def one_run(model: str, lr: float, intra_op: int | None, xla: bool) -> dict:
    """Train one quick run in this (fresh) process; its accuracy, wall and CPU seconds."""
    from core.base import device

    device.configure_threads(intra_op=intra_op, inter_op=2 if intra_op else None)
    import keras

    if xla:  # the option the app does not take: forced here on every compile of the run
        compile_ = keras.Model.compile

        def compile_xla(self, *args, **kwargs):
            return compile_(self, *args, **(kwargs | {"jit_compile": True}))

        keras.Model.compile = compile_xla
    from core.lab import presets
    from core.training.train import TrainConfig, train

    start, used = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    with tempfile.TemporaryDirectory() as out:
        card = train(TrainConfig(model=model, learning_rate=lr, out_dir=out, **presets.preset("quick")))
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"test_accuracy": round(card["test_accuracy"], 4), "wall_s": round(time.perf_counter() - start, 1),
            "cpu_s": round(after.ru_utime - used.ru_utime + after.ru_stime - used.ru_stime, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="convnet")
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--setups", nargs="+", default=list(SETUPS), choices=list(SETUPS))
    args = parser.parse_args()
    print(f"# {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; quick {args.model} "
          f"at lr {args.lr:g}", flush=True)
    spawn = multiprocessing.get_context("spawn")
    for name in args.setups:
        side_by_side, intra_op, xla = SETUPS[name]
        with ProcessPoolExecutor(max_workers=side_by_side, mp_context=spawn) as pool:
            jobs = [pool.submit(one_run, args.model, args.lr, intra_op, xla) for _ in range(side_by_side)]
            results = [job.result() for job in jobs]
        print(json.dumps({"setup": name, "runs": results, "load": round(os.getloadavg()[0], 1)}), flush=True)


if __name__ == "__main__":
    main()
