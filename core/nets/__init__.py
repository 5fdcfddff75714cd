"""Networks: the architectures, the registry that names them, model surgery, fast inference.

Modules: ``digits`` (DNN, ConvNet, ResNet, net002), ``photos`` (the CIFAR-10 nets), ``backbones`` (the
ImageNet networks of ``keras.applications``, their weights found offline, the feature cache), ``heads``
(swap a head, freeze a base, a network's features), ``registry`` (a name to its builder, title and
shipped file; ``run:<id>`` names are resolved by whoever registers a resolver), ``inference``
(``Predictor``: one-image calls in a millisecond).
May import: ``core.data``, ``core.images``, ``core.base``.
"""
