"""float32 against mixed_bfloat16 for the CIFAR-10 ResNet on this CPU: speed and accuracy, side by side.

Recent Xeons have AMX units that multiply bfloat16 matrices; TensorFlow's oneDNN uses them under Keras'
``mixed_bfloat16`` policy. This trains the same network on the same images with each policy and prints
the training throughput (second epoch) and the test accuracy, so the shipped recipe's choice is a measured one.

    VP_DATA_DIR=../shared/data python -m bench.bench_precision [--limit 10000] [--epochs 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from core.base import device  # noqa: E402

device.configure_threads(None, None)
from core.training.train import TrainConfig, train  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--model", default="cifar_resnet")
    args = parser.parse_args()
    print(f"{args.model}, {args.epochs} epochs on {args.limit} CIFAR-10 images, batch 256, {device.device_label()}")
    for precision in ("float32", "mixed_bfloat16"):
        with tempfile.TemporaryDirectory() as out:
            card = train(TrainConfig(model=args.model, epochs=args.epochs, limit=args.limit, batch_size=256,
                                     precision=precision, out_dir=out))
        seconds = card["history"]["epoch_seconds"]
        images_per_s = args.limit / (min(seconds[1:]) if len(seconds) > 1 else seconds[0])
        print(f"{precision:>15}: {images_per_s:6.0f} img/s, test accuracy {card['test_accuracy']:.2%}, "
              f"val accuracy {card['history']['val_accuracy'][-1]:.2%}", flush=True)


if __name__ == "__main__":
    main()
