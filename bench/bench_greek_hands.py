"""Greek letters by hands the model never saw: one hand (report 002's 27 letters) against many hands.

Each recipe is a frozen drawing network with a new 3-letter head (``bench_transfer.frozen_head``), trained on
the report's 27 letters alone, or on them and the many hands of ``core.data.greek_hands`` (fonts and template
strokes, drawn and photographed). All are read on the held-out hands (font families and stroke shapes never
trained on: ``greek_hands.held_out``), split into fonts and shapes, per letter, and on the held-out fonts all
photographed (ink on grey paper, thin pens to thick markers); the 12 test letters are shown
beside, never used to choose. The shipped model (``assets/models/greek.keras``) is read the same way.

    VP_DATA_DIR=../shared/data python -m bench.bench_greek_hands [--epochs 30] [--sources handwriting,net002]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.bench_transfer import frozen_head
from core.base import device
from core.data import datasets, greek_hands
from core.nets import registry
from core.training.train import to_float


def scores(model, x: np.ndarray, y: np.ndarray, n_fonts: int, x_test: np.ndarray, y_test: np.ndarray,
           photos: tuple[np.ndarray, np.ndarray]) -> str:
    """Held-out accuracy (all, fonts, shapes, per letter; the held-out fonts all photographed) and the 12 test
    letters', as one line."""
    photographed = float((model.predict(to_float(photos[0]), verbose=0).argmax(1) == photos[1]).mean())
    pred = model.predict(to_float(x), verbose=0).argmax(1)
    ok = pred == y
    per = " ".join(f"{c[0]} {ok[y == k].mean():.3f}" for k, c in enumerate(greek_hands.CLASSES))
    test = float((model.predict(to_float(x_test), verbose=0).argmax(1) == y_test).mean())
    return (f"{ok.mean():.3f}  fonts {ok[:n_fonts].mean():.3f}  shapes {ok[n_fonts:].mean():.3f}  ({per})  "
            f"photos {photographed:.3f}  test letters {test:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--sources", default="handwriting,net002")
    args = parser.parse_args()
    print(f"device: {device.device_label()}")
    (x27, y27), (x_test, y_test) = datasets.load_dataset("greek")
    x_hands, y_hands = greek_hands.training()
    x, y = greek_hands.held_out()
    n_fonts = len(greek_hands.font_letters_of(greek_hands.font_files(held_out=True), greek_hands.FONT_RENDERS,
                                              greek_hands.SEED + 2)[1])
    photos = greek_hands.font_letters_of(greek_hands.font_files(held_out=True), 4, seed=7, photo=True)
    photos = (np.round(photos[0] * 255).astype(np.uint8), photos[1])
    print(f"held-out hands: {len(y)} letters ({n_fonts} from {len(greek_hands.HELD_OUT)} font families, "
          f"{len(y) - n_fonts} in held-out stroke shapes); many hands: {len(y_hands)} letters + the 27")
    print(f"   {'shipped greek model':34s} {scores(registry.load('greek'), x, y, n_fonts, x_test, y_test, photos)}")
    for source in args.sources.split(","):
        for name, (xf, yf) in (("one hand (27 letters)", (x27, y27)),
                               ("many hands", (np.concatenate([x27, x_hands]), np.concatenate([y27, y_hands])))):
            started = time.perf_counter()
            model = frozen_head(source, xf, yf, 3, args.epochs, None)
            print(f"   {source + ', ' + name:34s} {scores(model, x, y, n_fonts, x_test, y_test, photos)}  "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
