"""Why a network answered so: saliency, invariance, adversarial examples, neighbours, feature maps, strokes.

Modules: ``saliency`` (integrated gradients, Grad-CAM), ``invariance`` (rotate, shift, scale, thicken),
``adversarial`` (FGSM, PGD), ``neighbours`` (the training digits nearest in a network's features),
``feature_maps`` (filters and what each layer makes of a drawing), ``stroke_importance`` (which stroke
mattered most).
May import: ``core.nets``, ``core.data``, ``core.images``, ``core.base``.
"""
