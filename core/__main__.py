"""Command line: ``python -m core predict ...`` and ``python -m core train ...``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable


def _predict(args: argparse.Namespace) -> int:
    from core import inference, preprocess, registry

    name = args.model or registry.best_model()
    predictor = inference.Predictor.load(name)
    status = 0
    for path in args.images:
        try:
            result = preprocess.to_mnist(preprocess.read_image_file(path))
            if result.empty:
                raise preprocess.InputError("no digit found in the image")
            probs, _ = predictor.predict(result.image)
        except (OSError, preprocess.InputError) as e:
            print(f"error: {path}: {e}", file=sys.stderr)
            status = 1
            continue
        except Exception as e:  # noqa: BLE001 - one file the code cannot handle must not stop the others
            print(f"error: {path}: could not be read ({type(e).__name__}: {e})", file=sys.stderr)
            status = 1
            continue
        print(json.dumps({"file": path, "label": int(probs.argmax()),
                          "probs": [round(float(p), 6) for p in probs], "model": name}), flush=True)
    return status


def _train(args: argparse.Namespace) -> int:
    from core import device

    device.configure_threads(None, None)
    from core.train import TrainConfig, train

    config = TrainConfig(model=args.model, epochs=args.epochs, batch_size=args.batch_size,
                         learning_rate=args.lr, limit=args.limit, augment=not args.no_augment,
                         writing_styles=not args.no_augment, polish_epochs=args.polish_epochs,
                         command="python -m core " + " ".join(sys.argv[1:]))
    if args.out:
        config.out_dir = args.out

    def progress(event: dict) -> None:
        if event["kind"] == "epoch":
            logs = " ".join(f"{k}={v:.4f}" for k, v in event["logs"].items())
            print(f"epoch {event['epoch']}/{event['epochs']} {logs} ({event['elapsed_s']:.0f}s)", flush=True)

    card = train(config, progress)
    print(json.dumps({k: card[k] for k in ("model", "test_accuracy", "macro_f1", "params",
                                            "epochs_run", "train_seconds", "device")}))
    return 0


def _at_least(low: int) -> Callable[[str], int]:
    """An argparse type for whole numbers >= ``low``, so a bad value gets a usage message, not a traceback."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
        return value
    return parse


def main(argv: list[str] | None = None) -> int:
    from core.registry import REGISTRY

    parser = argparse.ArgumentParser(prog="python -m core", description="Vision Playground command line")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("predict", help="read digits from image files, one JSON line per file")
    p.add_argument("--model", choices=sorted(REGISTRY), help="default: the best shipped model")
    p.add_argument("images", nargs="+")
    p.set_defaults(func=_predict)
    t = sub.add_parser("train", help="train a model on MNIST and write it with its card")
    t.add_argument("--model", choices=sorted(REGISTRY), required=True)
    t.add_argument("--epochs", type=_at_least(1), default=20)
    t.add_argument("--batch-size", type=_at_least(1), default=128)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--limit", type=_at_least(1), help="train on the first N images only")
    t.add_argument("--no-augment", action="store_true")
    t.add_argument("--polish-epochs", type=_at_least(0), default=3,
                   help="epochs on undistorted digits at a small learning rate after the augmented ones")
    t.add_argument("--out", help="output folder (default: assets/models)")
    t.set_defaults(func=_train)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except Exception as e:  # noqa: BLE001 - the CLI's contract: a message, not a traceback
        from core.data import DataError
        from core.registry import ModelNotFound

        if isinstance(e, (DataError, ModelNotFound, ValueError)):
            print(f"error: {e}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
