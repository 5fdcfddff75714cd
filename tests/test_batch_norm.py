"""Batch norm's stored statistics after a short run: what made the lab's quick ConvNet and ResNet guess 11%."""

import keras
import numpy as np
import pytest

from core.data import datasets
from core.lab import presets
from core.nets import registry
from core.training.train import TrainConfig, settle_batch_norm, to_float, train


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


@pytest.mark.slow
@pytest.mark.parametrize("model", ["convnet", "resnet"])
def test_a_quick_run_at_the_reports_learning_rate_reads_the_test_digits(model, tmp_path):
    """The Learning rate page's Quick preset (2 epochs, 6,000 digits) at lr 0.001: 11% before the fix."""
    card = train(TrainConfig(model=model, out_dir=str(tmp_path), learning_rate=0.001, **presets.preset("quick")))
    assert card["test_accuracy"] >= 0.95, card["test_accuracy"]
