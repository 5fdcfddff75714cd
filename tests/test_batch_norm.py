"""Batch norm's stored statistics after a short run: what made the lab's quick ConvNet and ResNet guess 11%."""

import keras
import numpy as np
import pytest

from core.data import datasets
from core.nets import registry
from core.training.kit import to_float
from core.training.train import settle_batch_norm


@pytest.mark.slow
def test_settling_stores_the_statistics_of_the_layer_inputs_over_the_images():
    (x_train, _), _ = datasets.load_mnist(download=False)
    images = to_float(x_train[:1024])
    model = registry.build("convnet")
    conv = keras.Model(model.inputs, model.get_layer("conv1_1").output)(images).numpy()
    bn = model.get_layer("bn1_1")
    before = np.asarray(bn.moving_variance)
    assert np.allclose(before, 1.0)  # Keras' start: far from a first convolution's variance on [0, 1] pixels
    settle_batch_norm(model, images)
    np.testing.assert_allclose(np.asarray(bn.moving_mean), conv.mean(axis=(0, 1, 2)), rtol=0.02, atol=1e-4)
    np.testing.assert_allclose(np.asarray(bn.moving_variance), conv.var(axis=(0, 1, 2)), rtol=0.05, atol=1e-5)
    assert bn.momentum == 0.99  # put back as it was

# What the fix gives a class (the quick preset reads >= 95% of the test digits) is asserted by
# tests/test_presets_teach.py, for every Draw network at every working learning rate.
