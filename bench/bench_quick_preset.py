"""What the lab's Quick preset teaches: each Draw network at each of report 004's learning rates.

Usage: VP_DATA_DIR=../shared/data python -m bench.bench_quick_preset [--models dnn convnet resnet]
       [--lrs 0.1 0.01 0.001 0.0001] [--batch-size N] [--epochs N]

Trains with the Learning rate page's Quick preset (the page's default) and prints, per run, the test
accuracy on the 10,000 MNIST test digits and the wall time, then the table beside report 004's table 2.
``--batch-size``/``--epochs`` override the preset, to choose it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time

from core.lab import presets
from core.training.train import TrainConfig, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["dnn", "convnet", "resnet"])
    parser.add_argument("--lrs", nargs="+", type=float, default=list(presets.LEARNING_RATES))
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--epochs", type=int)
    args = parser.parse_args()
    settings = presets.preset("quick")
    settings.update({k: v for k, v in (("batch_size", args.batch_size), ("epochs", args.epochs)) if v})
    print(f"# {platform.machine()}, {os.cpu_count()} cores; quick preset: {settings}", flush=True)
    table = {}
    with tempfile.TemporaryDirectory() as out:
        for model in args.models:
            for lr in args.lrs:
                start = time.perf_counter()
                card = train(TrainConfig(model=model, learning_rate=lr, out_dir=out, **settings))
                row = {"model": model, "lr": lr, "test_accuracy": round(card["test_accuracy"], 4),
                       "seconds": round(time.perf_counter() - start, 1)}
                table[model, lr] = row["test_accuracy"]
                print(json.dumps(row), flush=True)
    print("\nmodel     " + "".join(f"lr {lr:<10g}" for lr in args.lrs))
    for model in args.models:
        cells = "".join(f"{table[model, lr]:.3f} ({presets.REPORT_004_TABLE2[model][lr][0]:.2f})  "
                        for lr in args.lrs)
        print(f"{model:<9} {cells}")
    print("(report 004's figure in brackets)")


if __name__ == "__main__":
    main()
