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


def _inputs(side: int = INPUT_SHAPE[0]):
    inputs = keras.Input((side, side, 3), name="image")
    x = layers.Normalization(mean=MEAN, variance=[s * s for s in STD], name="standardise")(inputs)
    return inputs, x


def _head(x, num_classes: int):
    return layers.Dense(num_classes, activation="softmax", dtype="float32", name="probs")(x)


def _conv_bn(x, filters: int, kernel_size: int, name: str):
    x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def build_cifar_vgg(num_classes: int = NUM_CLASSES, dropout: float = 0.3, kernel_size: int = 3,
                    side: int = INPUT_SHAPE[0]) -> keras.Model:
    """Three VGG blocks (two conv-BN-ReLU, max-pool, dropout) of 32, 64, 128 filters, then Dense 128."""
    inputs, x = _inputs(side)
    for block, filters in enumerate((32, 64, 128), start=1):
        x = _conv_bn(x, filters, kernel_size, f"block{block}a")
        x = _conv_bn(x, filters, kernel_size, f"block{block}b")
        x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
        x = layers.Dropout(dropout * block / 3, name=f"dropout{block}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="dense_128")(x)
    x = layers.Dropout(dropout, name="dropout_dense")(x)
    return keras.Model(inputs, _head(x, num_classes), name="cifar_vgg")


def build_cifar_alexnet(num_classes: int = NUM_CLASSES, dropout: float = 0.5, kernel_size: int = 3,
                        side: int = INPUT_SHAPE[0]) -> keras.Model:
    """AlexNet at 32x32: five convolutions (48-128-192-192-128), three max-pools, two Dense 256 and the head."""
    inputs, x = _inputs(side)
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


# Report 003's five CNNs on five tiny-ImageNet classes (its table): convolution filters in groups (each group
# closed by a 2x2 max-pool, or by a stride-2 convolution where the report used no pooling), hidden dense layers,
# and whether every layer but the last is batch-normalised. The report gives counts and filter ranges, not each
# width: the widths below spread its ranges over its counts, and the hidden dense layers (not given) have 256 units.
REPORT_003_CNNS = {
    1: dict(groups=((32, 32), (64, 64)), pool=True, dense=1, batch_norm=False),  # 4 conv, 2 pools, 2 FC
    2: dict(groups=((128, 128), (128, 128), (128,)), pool=True, dense=2, batch_norm=False),  # 5 conv, 3 pools
    3: dict(groups=((128, 128, 128), (256, 256, 256), (512, 512, 512)), pool=False, dense=1, batch_norm=True),
    4: dict(groups=((128, 128), (256, 256), (512, 512), (512, 512)), pool=True, dense=2, batch_norm=True),
    5: dict(groups=((128, 128), (256, 256), (512, 512), (1024, 1024)), pool=True, dense=3, batch_norm=True),
}
REPORT_003_DENSE = 256


def build_report003(variant: int, num_classes: int = NUM_CLASSES, side: int = INPUT_SHAPE[0]) -> keras.Model:
    """Report 003's CNN ``variant`` (1-5, its table's rows; 4 was its best: 77.2% on five classes)."""
    arch = REPORT_003_CNNS[variant]
    inputs, x = _inputs(side)
    for g, group in enumerate(arch["groups"], start=1):
        for i, filters in enumerate(group, start=1):
            last = i == len(group)
            stride = 2 if last and not arch["pool"] else 1  # model 3 has no pooling: its groups end in a stride
            x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=not arch["batch_norm"],
                              name=f"conv{g}_{i}")(x)
            if arch["batch_norm"]:
                x = layers.BatchNormalization(name=f"bn{g}_{i}")(x)
            x = layers.Activation("relu", name=f"relu{g}_{i}")(x)
        if arch["pool"]:
            x = layers.MaxPooling2D(2, name=f"pool{g}")(x)
    x = layers.Flatten(name="flatten")(x)
    for d in range(1, arch["dense"] + 1):
        x = layers.Dense(REPORT_003_DENSE, use_bias=not arch["batch_norm"], name=f"fc{d}")(x)
        if arch["batch_norm"]:
            x = layers.BatchNormalization(name=f"bn_fc{d}")(x)
        x = layers.Activation("relu", name=f"relu_fc{d}")(x)
    return keras.Model(inputs, _head(x, num_classes), name=f"report003_model{variant}")
