"""Training recipes, each one function from a config to a trained model and its card.

Modules: ``config`` (``TrainConfig``, what defines a run, checked without loading TensorFlow), ``kit`` (what
every recipe shares: ``Reporter``, ``Cancelled``, the tf.data pipeline, ``save_model``), ``train`` (digits and
photos from scratch), ``letter_transfer`` (an MNIST network re-used for Greek letters: frozen, fine-tuned or from
scratch), ``backbone_transfer`` (a photo backbone re-used for new classes, on cached features), ``class_finetune``
(a Draw network fine-tuned on a class's drawings).
May import: ``core.nets``, ``core.data``, ``core.images``, ``core.base``; never ``core.lab``: the run engine
calls the recipes, not the other way round.
"""
