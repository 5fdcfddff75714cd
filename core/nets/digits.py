"""The digit networks: builders for each architecture the app compares.

All take a 28x28x1 float image in [0, 1] (see ``core.images.preprocess``) and return
ten softmax probabilities. The last layer is float32 so mixed precision on a
GPU still gives exact probabilities.
"""

from __future__ import annotations

import keras
from keras import layers

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


def _head(x, num_classes: int):
    return layers.Dense(num_classes, activation="softmax", dtype="float32", name="probs")(x)


def build_dnn(num_classes: int = NUM_CLASSES, dropout: float = 0.3) -> keras.Model:
    """A fully connected network: the pyramid of dense ReLU layers of report 004, with dropout."""
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = layers.Flatten(name="flatten")(inputs)
    for i, units in enumerate((1024, 512)):
        x = layers.Dense(units, activation="relu", name=f"dense_{i + 1}")(x)
        x = layers.Dropout(dropout, name=f"dropout_{i + 1}")(x)
    return keras.Model(inputs, _head(x, num_classes), name="dnn")


def build_convnet(num_classes: int = NUM_CLASSES, dropout: float = 0.3, kernel_size: int = 3, width: int = 64
                  ) -> keras.Model:
    """Conv2D + MaxPooling stacks then Dense 64, as in report 004, with batch norm and dropout.

    ``width`` is the units of that dense layer, the features the head reads: the handwriting network, which
    learns 36 classes and lends its features to classes it never saw, has more.
    """
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = inputs
    for stage, filters in enumerate((32, 64)):
        for j in range(2):
            x = layers.Conv2D(filters, kernel_size, use_bias=False, name=f"conv{stage + 1}_{j + 1}")(x)
            x = layers.BatchNormalization(name=f"bn{stage + 1}_{j + 1}")(x)
            x = layers.Activation("relu", name=f"relu{stage + 1}_{j + 1}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{stage + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout, name="dropout_1")(x)
    x = layers.Dense(width, activation="relu", name="dense_64" if width == 64 else f"dense_{width}")(x)
    x = layers.Dropout(dropout, name="dropout_2")(x)
    return keras.Model(inputs, _head(x, num_classes), name="convnet")


def _bottleneck(x, filters: tuple[int, int, int], stride: int, name: str, project: bool):
    """A ResNet50 bottleneck: 1x1 reduce, 3x3, 1x1 expand, added to the (projected) input."""
    f1, f2, f3 = filters
    shortcut = x
    if project:
        shortcut = layers.Conv2D(f3, 1, strides=stride, use_bias=False, name=f"{name}_proj")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    y = layers.Conv2D(f1, 1, strides=stride, use_bias=False, name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.Activation("relu", name=f"{name}_relu1")(y)
    y = layers.Conv2D(f2, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    y = layers.Activation("relu", name=f"{name}_relu2")(y)
    y = layers.Conv2D(f3, 1, use_bias=False, name=f"{name}_conv3")(y)
    y = layers.BatchNormalization(name=f"{name}_bn3")(y)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.Activation("relu", name=f"{name}_out")(y)


def build_resnet(num_classes: int = NUM_CLASSES, dropout: float = 0.2, kernel_size: int = 3) -> keras.Model:
    """The first stages of a ResNet50, sized for a CPU.

    A 3x3 stem, then two stages of one convolution block (projection shortcut)
    and one identity block each, as report 004 built, then global average pooling.
    """
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = layers.Conv2D(32, kernel_size, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    x = layers.MaxPooling2D(2, name="stem_pool")(x)  # 14x14
    x = _bottleneck(x, (32, 32, 128), 1, "stage1_conv", project=True)
    x = _bottleneck(x, (32, 32, 128), 1, "stage1_id", project=False)
    x = _bottleneck(x, (64, 64, 256), 2, "stage2_conv", project=True)  # 7x7
    x = _bottleneck(x, (64, 64, 256), 1, "stage2_id", project=False)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, _head(x, num_classes), name="resnet")


def build_net002(num_classes: int = NUM_CLASSES, dropout: float = 0.5, kernel_size: int = 5) -> keras.Model:
    """The small net of report 002: exactly 21,840 parameters (with its 5x5 kernels).

    conv 10@5x5, max-pool + ReLU, conv 20@5x5, dropout 0.5, max-pool + ReLU,
    dense 50, dense 10. It is the source net for the filters page and for
    transfer to Greek letters, and the net of report 002's grid over dropout,
    batch size and kernel size.
    """
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = layers.Conv2D(10, kernel_size, name="conv1")(inputs)  # 24x24x10 with 5x5 kernels
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Activation("relu", name="relu1")(x)
    x = layers.Conv2D(20, kernel_size, name="conv2")(x)  # 8x8x20
    x = layers.SpatialDropout2D(dropout, name="dropout_conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Activation("relu", name="relu2")(x)
    x = layers.Flatten(name="flatten")(x)  # 320
    x = layers.Dense(50, activation="relu", name="fc1")(x)
    x = layers.Dropout(dropout, name="dropout_fc1")(x)
    return keras.Model(inputs, _head(x, num_classes), name="net002")
