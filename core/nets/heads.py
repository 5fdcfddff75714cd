"""Model surgery: a network's head (its last, softmax layer), what comes before it, and freezing.

Every registered network ends in a softmax Dense layer named ``HEAD``. Transfer
learning swaps that layer for a new one (``replace_head``) and keeps the rest as
a base that stays in inference mode (``inference_mode``); the base's output, the
head's input, is what a network has made of a picture just before deciding: its
features (``embedding_model``), which the nearest-neighbour explanations and
your own classes' heads read.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

HEAD = "probs"  # the name of every registered network's last layer


def replace_head(source: keras.Model, num_classes: int, name: str, base_training: bool | None = False
                 ) -> keras.Model:
    """``source`` with its last layer swapped for a new softmax layer of ``num_classes`` outputs.

    The layers kept become one sub-model, the base, in inference mode by default
    (``base_training=False``): its dropout off and its batch statistics MNIST's, as Keras'
    transfer-learning guide advises for frozen and fine-tuned bases alike. A network trained
    from scratch passes ``None`` so its dropout and batch norm train as usual.
    """
    base = keras.Model(source.inputs, source.get_layer(HEAD).input, name=f"{source.name}_features")
    if base_training is False:
        inference_mode(base)
    inputs = keras.Input(source.input_shape[1:], name="image")
    features = base(inputs, training=base_training)
    probs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name=HEAD)(features)
    return keras.Model(inputs, probs, name=name)


def inference_mode(base: keras.Model) -> keras.Model:
    """Keep ``base`` in inference mode even inside ``fit``: dropout off, batch norm on its stored statistics.

    Calling the base with ``training=False`` is not enough in Keras 3: ``fit`` passes ``training=True``
    down and it wins (tests/test_transfer.py checks this). A frozen batch norm layer does run in
    inference mode, and a dropout of rate 0 drops nothing.
    """
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
        elif isinstance(layer, (keras.layers.Dropout, keras.layers.SpatialDropout2D)):
            layer.rate = 0.0
    return base


def freeze_base(model: keras.Model) -> keras.Model:
    """Freeze the base (every layer but the new head), so only the last layer learns."""
    for layer in model.layers:
        layer.trainable = layer.name == HEAD or isinstance(layer, keras.layers.InputLayer)
    return model




def embedding_model(model: keras.Model) -> keras.Model:
    """The network up to its last layer's input: a picture in, its features out."""
    return keras.Model(model.inputs[0], model.get_layer(HEAD).input)


def compiled_embedder(model: keras.Model):
    """A fast one-image feature function for ``model`` (traced once; an eager call costs tens of ms)."""
    embed = embedding_model(model)
    fn = tf.function(lambda x: embed(x, training=False),
                     input_signature=[tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)])

    def features(image: np.ndarray) -> np.ndarray:
        return fn(tf.constant(np.asarray(image, np.float32).reshape(1, *model.input_shape[1:]))).numpy()[0]

    return features


def features_of(model: keras.Model, image: np.ndarray) -> np.ndarray:
    """One image's features (the penultimate activations)."""
    x = np.asarray(image, np.float32).reshape(1, *model.input_shape[1:])
    return np.asarray(embedding_model(model)(x, training=False), np.float32)[0]
