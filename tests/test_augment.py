import numpy as np
from scipy import ndimage

from core.data import datasets
from core.images import augment


def test_writing_styles_add_strokes_to_zeros_ones_and_sevens():
    (x, y), _ = datasets.load_mnist(download=False)
    x, y = x[:2000], y[:2000]
    xs, ys = augment.writing_styles(x, y, fraction=0.2, seed=1)
    assert set(np.unique(ys)) == {0, 1, 7}
    for label in (0, 1, 7):
        assert (ys == label).sum() == int(0.2 * (y == label).sum())
    assert xs.shape[1:] == (28, 28) and xs.dtype == np.uint8
    # framed as MNIST: centred by mass, and carrying more ink than the plain digits (the added stroke)
    cy, cx = ndimage.center_of_mass(xs[0].astype(float))
    assert abs(cy - 13.5) < 1 and abs(cx - 13.5) < 1
    zeros = xs[ys == 0].astype(float)
    # a slash crosses the middle of a zero, where a plain zero has its hole
    assert zeros[:, 12:16, 12:16].mean() > 2 * x[y == 0][:, 12:16, 12:16].astype(float).mean()


def test_random_thickness_keeps_range_and_changes_ink():
    import tensorflow as tf

    (x, _), _ = datasets.load_mnist(download=False)
    batch = tf.constant(x[:64, ..., None] / 255.0, tf.float32)
    out = augment.random_thickness(batch).numpy()
    assert out.min() >= 0 and out.max() <= 1 + 1e-6
    ink_before = batch.numpy().sum(axis=(1, 2, 3))
    ink_after = out.sum(axis=(1, 2, 3))
    assert (ink_after > 1.05 * ink_before).any() and (ink_after < 0.95 * ink_before).any()


def test_writing_styles_of_a_slice_with_no_0_1_or_7_is_empty():
    (x, y), _ = datasets.load_mnist(download=False)
    picked = np.isin(y, [2, 3])[:200]
    xs, ys = augment.writing_styles(x[:200][picked], y[:200][picked])
    assert xs.shape == (0, 28, 28) and xs.dtype == np.uint8 and ys.shape == (0,)


def test_augmentation_stays_float32_under_mixed_precision():
    import keras
    import tensorflow as tf

    (x, _), _ = datasets.load_mnist(download=False)
    batch = tf.constant(x[:8, ..., None] / 255.0, tf.float32)
    policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")  # what training sets on a GPU
    try:
        out = augment.random_thickness(augment.make_augmenter(0)(batch, training=True))
    finally:
        keras.mixed_precision.set_global_policy(policy)
    assert out.dtype == tf.float32 and out.shape == batch.shape
