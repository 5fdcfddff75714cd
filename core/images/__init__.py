"""Pictures in, MNIST-style inputs out: the app's one preprocessing path, pen strokes, augmentations.

Modules: ``preprocess`` (decode an upload, crop to the ink, fit 20x20, centre by mass; ``scale_pixels``,
``IMAGE_SUFFIXES``), ``strokes`` (pen strokes rendered as the canvas draws them, and the canvas' own JSON),
``augment`` (rotation, shear, thickness, writing styles; photo shifts, mirror, cutout).
May import: ``core.base``.
"""
