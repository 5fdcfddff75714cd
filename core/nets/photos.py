"""The CIFAR-10 networks: scratch CNNs for 32x32 colour photos.

All take a 32x32x3 float image in [0, 1] and return ten softmax probabilities.
Each starts with a fixed per-channel standardisation (CIFAR-10's train mean and
standard deviation), so callers feed plain pixels, as they do the digit nets.

- ``cifar_vgg``: the VGG-style CNN with batch normalisation of reports 001/003.
- ``cifar_alexnet``: AlexNet's five convolutions and three dense layers, adapted
  to 32x32 (small strides, no 11x11 kernel), as report 001's experiment 3.
- ``cifar_resnet``: a ResNet-9 in the style of the fast CIFAR-10 training
  results (conv-BN-ReLU stages, two residual blocks, global max pooling), at
  half width so a CPU trains it in about an hour; the project's shipped model.
"""

from __future__ import annotations

import keras
from keras import layers

INPUT_SHAPE = (32, 32, 3)
NUM_CLASSES = 10
# Per-channel train statistics of the data set in ../shared/data (see its SOURCES.md), as fractions of 255.
MEAN = (0.4913, 0.4821, 0.4465)
STD = (0.2451, 0.2428, 0.2608)


def _inputs():
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = layers.Normalization(mean=MEAN, variance=[s * s for s in STD], name="standardise")(inputs)
    return inputs, x


def _head(x, num_classes: int):
    return layers.Dense(num_classes, activation="softmax", dtype="float32", name="probs")(x)


def _conv_bn(x, filters: int, kernel_size: int, name: str):
    x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def build_cifar_vgg(num_classes: int = NUM_CLASSES, dropout: float = 0.3, kernel_size: int = 3) -> keras.Model:
    """Three VGG blocks (two conv-BN-ReLU, max-pool, dropout) of 32, 64, 128 filters, then Dense 128."""
    inputs, x = _inputs()
    for block, filters in enumerate((32, 64, 128), start=1):
        x = _conv_bn(x, filters, kernel_size, f"block{block}a")
        x = _conv_bn(x, filters, kernel_size, f"block{block}b")
        x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
        x = layers.Dropout(dropout * block / 3, name=f"dropout{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="dense_128")(x)
    x = layers.Dropout(dropout, name="dropout_dense")(x)
    return keras.Model(inputs, _head(x, num_classes), name="cifar_vgg")


def build_cifar_alexnet(num_classes: int = NUM_CLASSES, dropout: float = 0.5, kernel_size: int = 3) -> keras.Model:
    """AlexNet at 32x32: five convolutions (48-128-192-192-128), three max-pools, two Dense 256 and the head."""
    inputs, x = _inputs()
    x = layers.Conv2D(48, 5, padding="same", activation="relu", name="conv1")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)  # 16x16
    x = layers.BatchNormalization(name="norm1")(x)  # in place of AlexNet's local response normalisation
    x = layers.Conv2D(128, kernel_size, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)  # 8x8
    x = layers.BatchNormalization(name="norm2")(x)
    for i, filters in enumerate((192, 192, 128), start=3):
        x = layers.Conv2D(filters, kernel_size, padding="same", activation="relu", name=f"conv{i}")(x)
    x = layers.MaxPooling2D(2, name="pool5")(x)  # 4x4
    x = layers.Flatten(name="flatten")(x)
    for i in (1, 2):
        x = layers.Dense(256, activation="relu", name=f"fc{i}")(x)
        x = layers.Dropout(dropout, name=f"dropout_fc{i}")(x)
    return keras.Model(inputs, _head(x, num_classes), name="cifar_alexnet")


def _residual(x, filters: int, name: str):
    y = _conv_bn(x, filters, 3, f"{name}_a")
    y = _conv_bn(y, filters, 3, f"{name}_b")
    return layers.Add(name=f"{name}_add")([x, y])


def build_cifar_resnet(num_classes: int = NUM_CLASSES, dropout: float = 0.0, kernel_size: int = 3,
                       width: int = 32) -> keras.Model:
    """ResNet-9: prep, then three stages (conv-BN-ReLU, max-pool; a residual block after the 1st and 3rd)."""
    inputs, x = _inputs()
    x = _conv_bn(x, width, kernel_size, "prep")  # 32x32
    x = _conv_bn(x, 2 * width, kernel_size, "stage1")
    x = layers.MaxPooling2D(2, name="stage1_pool")(x)  # 16x16
    x = _residual(x, 2 * width, "res1")
    x = _conv_bn(x, 4 * width, kernel_size, "stage2")
    x = layers.MaxPooling2D(2, name="stage2_pool")(x)  # 8x8
    x = _conv_bn(x, 8 * width, kernel_size, "stage3")
    x = layers.MaxPooling2D(2, name="stage3_pool")(x)  # 4x4
    x = _residual(x, 8 * width, "res3")
    x = layers.GlobalMaxPooling2D(name="global_pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.Rescaling(0.125, name="scale")(x)  # small logits at the start keep SGD at lr 0.1 stable
    return keras.Model(inputs, _head(x, num_classes), name="cifar_resnet")
