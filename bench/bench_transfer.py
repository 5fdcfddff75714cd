"""Greek letters from MNIST networks (report 002, part C): which network's features transfer, and what
freezing costs.

1. Choosing the source without the test letters, frozen features + new head, for each shipped network:
   a. 3-fold cross-validation on the 27 training letters (photos of one person's ink on paper);
   b. trained on the 27, read on 300 Greek letters written as pen strokes in several hands
      (``core.data.greek_strokes``: thin to thick strokes, each letter's common shapes), clean and distorted;
   c. the same recipe (a frozen network, a new softmax layer trained by ``letter_transfer.fit``) on letters
      by people it never saw: tasks of 5 UNIPEN letters taught with 10 drawings each by some writers, read
      on other writers' letters (``bench.bench_unseen_hands``), beside a nearest neighbour on pixels.
   The shipped Greek model's source is the one these pick; the 12 test letters play no part in the choice.
2. The test table: every source x {frozen, finetune, scratch}, trained on all 27 letters, scored on the
   12 test letters drawn by another person; trainable parameters and seconds.

    VP_DATA_DIR=../shared/data python -m bench.bench_transfer [--epochs 30] [--sources net002,resnet] [--tasks 20]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench import bench_unseen_hands
from core.base import device
from core.data import datasets, greek_strokes
from core.nets import heads, registry
from core.training import letter_transfer


def cross_validate(source: str, epochs: int, folds: int = 3, seed: int = 0, augment: bool | None = None) -> float:
    """Mean held-out accuracy of frozen-``source`` heads over ``folds`` stratified folds of the training letters."""
    from sklearn.model_selection import StratifiedKFold

    from core.training.kit import to_float

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


def frozen_head(source: str, x: np.ndarray, y: np.ndarray, n_classes: int, epochs: int, augment: bool | None):
    """The recipe's model: ``source`` frozen, a new softmax layer of ``n_classes`` trained on uint8 drawings."""
    config = letter_transfer.TransferConfig(source=source, mode="frozen", epochs=epochs, augment=augment,
                                            out_dir="/tmp")
    model = heads.freeze_base(heads.replace_head(registry.load(source), n_classes, "letters"))
    letter_transfer.fit(letter_transfer.compile_model(model, config), x, y, config)
    return model


def strokes_accuracy(source: str, epochs: int, augment: bool | None = None) -> float:
    """Trained on the 27 training letters, read on Greek letters written in several hands (strokes)."""
    (x, y), _ = datasets.load_dataset("greek")
    model = frozen_head(source, x, y, 3, epochs, augment)
    images, labels = greek_strokes.drawn(per_class=100)
    return float((model.predict(images[..., None], verbose=0).argmax(1) == labels).mean())


def unseen_writers(source: str, epochs: int, n_tasks: int, letters) -> list[float]:
    """Each task's accuracy on other writers' letters of the recipe taught with 10 letters of 5 classes."""
    images, labels, groups = letters
    x = np.round(images * 255).astype(np.uint8)
    scores = []
    for classes, taught, read in bench_unseen_hands.tasks(labels, groups, n_tasks=n_tasks):
        model = frozen_head(source, x[taught], np.searchsorted(classes, labels[taught]), len(classes), epochs, None)
        pred = model.predict(images[read][..., None], verbose=0).argmax(1)
        scores.append(float((pred == np.searchsorted(classes, labels[read])).mean()))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--sources", default="handwriting,net002,dnn,convnet,resnet")
    parser.add_argument("--tasks", type=int, default=20, help="letter tasks of 1c (0: skip)")
    parser.add_argument("--skip-table", action="store_true")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    sources = args.sources.split(",")
    print(f"device: {device.device_label()}")
    print("1a. 3-fold cross-validation on the 27 training letters (frozen, new head): clean / distorted letters")
    for source in sources:
        clean, distorted = (cross_validate(source, args.epochs, augment=a) for a in (False, True))
        print(f"   {source:12s} {clean:.3f} / {distorted:.3f}", flush=True)
    print("1b. trained on the 27, read on 300 letters written in several hands: clean / distorted training letters")
    for source in sources:
        clean, distorted = (strokes_accuracy(source, args.epochs, augment=a) for a in (False, True))
        print(f"   {source:12s} {clean:.3f} / {distorted:.3f}", flush=True)
    if args.tasks:
        letters = bench_unseen_hands.letters()
        print(f"1c. {args.tasks} tasks of 5 letters x 10 drawings, read on writers not used to teach: mean, worst task")
        for source in sources:
            started = time.perf_counter()
            scores = unseen_writers(source, args.epochs, args.tasks, letters)
            print(f"   {source:12s} {bench_unseen_hands.summary(scores)}  "
                  f"({(time.perf_counter() - started) / args.tasks:.1f} s a task)", flush=True)
        pixels = bench_unseen_hands.pixel_scores(*letters, n_tasks=args.tasks)
        print(f"   {'pixels, nearest neighbour':12s} {bench_unseen_hands.summary(pixels)}")
    if args.skip_table:
        return
    print("2. trained on the 27 training letters, scored on the 12 test letters (mean of --seeds seeds)")
    print(f"   {'source':12s} {'mode':9s} {'test acc':>8s} {'trainable':>10s} {'frozen':>8s} {'seconds':>8s}")
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
            print(f"   {source:12s} {mode:9s} {np.mean(scores):8.3f} {p['trainable']:10d} "
                  f"{p['non_trainable']:8d} {(time.perf_counter() - started) / args.seeds:8.1f}  "
                  f"(per seed: {', '.join(f'{s:.3f}' for s in scores)})", flush=True)


if __name__ == "__main__":
    main()
