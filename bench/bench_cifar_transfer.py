"""Backbones re-used for new photos: the learning curve of reports 000/001/003 at a CPU's scale.

The project's CIFAR-5 backbone (a quarter-width ResNet-9 trained on airplane, automobile, bird, cat, deer) is
re-used for dog, frog, horse, ship, truck with 20, 100, 500 (and, with --all, 5000) labelled photos per class:
from scratch vs frozen backbone + new head vs fine-tuned. Scored on the 5,000 test photos of those classes.
Also: the seconds a frozen run takes with its features cached (the point of the cache).

    VP_DATA_DIR=../shared/data python -m bench.bench_cifar_transfer [--epochs 15] [--all]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from core.base import device
from core.training import backbone_transfer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--all", action="store_true", help="also 5000 labels per class (slow from scratch)")
    parser.add_argument("--modes", default="frozen,finetune,scratch")
    args = parser.parse_args()
    labels = (20, 100, 500, 5000) if args.all else (20, 100, 500)
    print(f"device: {device.device_label()}")
    print(f"{'recipe':10s} {'labels/class':>12s} {'test acc':>9s} {'trainable':>10s} {'frozen':>8s} {'seconds':>8s}")
    out = tempfile.mkdtemp()
    for mode in args.modes.split(","):
        for n in labels:
            started = time.perf_counter()
            card = backbone_transfer.train_backbone(backbone_transfer.BackboneConfig(
                mode=mode, labels_per_class=n, epochs=args.epochs, out_dir=out))
            p = card["transfer_params"]
            print(f"{mode:10s} {n:12d} {card['test_accuracy']:9.3f} {p['trainable']:10d} {p['non_trainable']:8d} "
                  f"{time.perf_counter() - started:8.1f}", flush=True)
    started = time.perf_counter()
    backbone_transfer.train_backbone(backbone_transfer.BackboneConfig(mode="frozen", labels_per_class=500,
                                                                epochs=args.epochs, out_dir=out))
    print(f"a frozen run again (500 labels/class), features from the cache: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
