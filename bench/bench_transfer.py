"""Greek letters from MNIST networks (report 002, part C): which network's features transfer, and what
freezing costs.

1. Choosing the source on the training letters alone: 3-fold cross-validation on the 27 training letters,
   frozen features + new head, for each shipped MNIST network. (The shipped Greek model's source is the
   one this picks; the test letters play no part in the choice.)
2. The test table: every source x {frozen, finetune, scratch}, trained on all 27 letters, scored on the
   12 test letters drawn by another person; trainable parameters and seconds.

    VP_DATA_DIR=../shared/data python -m bench.bench_transfer [--epochs 30] [--sources net002,resnet]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from core.base import device
from core.data import datasets  # noqa: E402
from core.training import letter_transfer


def cross_validate(source: str, epochs: int, folds: int = 3, seed: int = 0, augment: bool | None = None) -> float:
    """Mean held-out accuracy of frozen-``source`` heads over ``folds`` stratified folds of the training letters."""
    from sklearn.model_selection import StratifiedKFold

    from core.training.train import to_float

    (x, y), _ = datasets.load_dataset("greek")
    scores = []
    for fit_idx, held_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        config = letter_transfer.TransferConfig(source=source, mode="frozen", epochs=epochs, augment=augment,
                                         out_dir="/tmp")
        model = letter_transfer.compile_model(letter_transfer.start_model(config), config)
        letter_transfer.fit(model, x[fit_idx], y[fit_idx], config)
        pred = model.predict(to_float(x[held_idx]), verbose=0).argmax(1)
        scores.append(float((pred == y[held_idx]).mean()))
    return float(np.mean(scores))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--sources", default="net002,dnn,convnet,resnet")
    parser.add_argument("--skip-table", action="store_true")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    sources = args.sources.split(",")
    print(f"device: {device.device_label()}")
    print("1. 3-fold cross-validation on the 27 training letters (frozen, new head): clean / distorted letters")
    for source in sources:
        clean, distorted = (cross_validate(source, args.epochs, augment=a) for a in (False, True))
        print(f"   {source:8s} {clean:.3f} / {distorted:.3f}", flush=True)
    if args.skip_table:
        return
    print("2. trained on the 27 training letters, scored on the 12 test letters (mean of --seeds seeds)")
    print(f"   {'source':8s} {'mode':9s} {'test acc':>8s} {'trainable':>10s} {'frozen':>8s} {'seconds':>8s}")
    for source in sources:
        for mode in letter_transfer.MODES:
            started = time.perf_counter()
            scores = []
            for seed in range(args.seeds):
                config = letter_transfer.TransferConfig(source=source, mode=mode, epochs=args.epochs, seed=seed,
                                                        out_dir="/tmp/bench_transfer")
                card = letter_transfer.train_transfer(config)
                scores.append(card["test_accuracy"])
            p = card["transfer_params"]
            print(f"   {source:8s} {mode:9s} {np.mean(scores):8.3f} {p['trainable']:10d} "
                  f"{p['non_trainable']:8d} {(time.perf_counter() - started) / args.seeds:8.1f}  "
                  f"(per seed: {', '.join(f'{s:.3f}' for s in scores)})", flush=True)


if __name__ == "__main__":
    main()
