"""Accuracy of the shipped models: MNIST test set, real human drawing, and photo-like uploads.

Usage: VP_DATA_DIR=../shared/data python -m bench.bench_accuracy [--models dnn convnet resnet] [--n 1000]

Human drawing: the 1,000 UNIPEN pen-stroke digits (81 writers) rendered as the
canvas draws them, at several stroke widths and sizes, read through the app's
own preprocessing. For comparison it also prints what a naive 280->28 resize
would score. Photos: the same strokes as phone photos, tablet pages, thin pen
lines and light-on-dark pictures, decoded and preprocessed as uploads are.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np  # noqa: E402

from core.data import (
    datasets,  # noqa: E402
    samples,
    unipen,
)
from core.images import preprocess, strokes
from core.nets import registry
from core.nets.inference import Predictor  # noqa: E402


def drawings(records: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """App inputs and naive-resize inputs for every record, with varied pen width, size and place."""
    rng = np.random.default_rng(0)
    app, naive, labels = [], [], []
    for rec in records:
        width = int(rng.integers(12, 30))
        box = rng.uniform(120, 240)
        room = (strokes.CANVAS_SIDE - box - width) / 2 - 4  # people draw inside the canvas
        off = rng.uniform(-room, room, size=2)
        img = strokes.render(strokes.canvas_paths(rec, box=box, offset=tuple(off)), width=width)
        gray = img.astype(np.float32) / 255.0
        app.append(preprocess.from_canvas(gray).image)
        naive.append(preprocess._resize(gray, (28, 28)))
        labels.append(rec["label"])
    return np.stack(app), np.stack(naive), np.array(labels)


def photos(records: list[dict]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for style in samples.STYLES:
        xs, ys = [], []
        for i, rec in enumerate(records):
            gray = preprocess.decode_image(samples.make_photo(rec, style, seed=i))
            xs.append(preprocess.to_mnist(gray, keep_steps=False).image)
            ys.append(rec["label"])
        out[style] = (np.stack(xs), np.array(ys))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=[m for m in registry.DRAW_MODELS])
    parser.add_argument("--n", type=int, default=1000, help="UNIPEN digits to use")
    parser.add_argument("--photos", type=int, default=200, help="photo-like pictures per style")
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus")
    (_, _), (x_test, y_test) = datasets.load_mnist(download=False)
    records = unipen.load_unipen()[: args.n]
    t = time.perf_counter()
    app, naive, labels = drawings(records)
    print(f"rendered+preprocessed {len(records)} drawings in {time.perf_counter() - t:.1f}s")
    photo_sets = photos(records[: args.photos]) if args.photos else {}
    for name in args.models:
        if not registry.get(name).path().is_file():
            print(f"{name}: no trained model, skipped")
            continue
        p = Predictor.load(name)
        mnist = (p.predict_batch(x_test / 255.0).argmax(1) == y_test).mean()
        human = (p.predict_batch(app).argmax(1) == labels).mean()
        base = (p.predict_batch(naive).argmax(1) == labels).mean()
        line = f"{name:8s} mnist_test={mnist:.4f} unipen_app={human:.4f} unipen_naive_resize={base:.4f}"
        for style, (xs, ys) in photo_sets.items():
            line += f" photo_{style}={(p.predict_batch(xs).argmax(1) == ys).mean():.3f}"
        if photo_sets:
            allx = np.concatenate([v[0] for v in photo_sets.values()])
            ally = np.concatenate([v[1] for v in photo_sets.values()])
            line += f" photo_all={(p.predict_batch(allx).argmax(1) == ally).mean():.4f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
