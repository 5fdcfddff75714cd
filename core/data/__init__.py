"""Data sets: the catalogue and its readers, real pen strokes, checked uploads, example pictures.

Modules: ``datasets`` (MNIST, CIFAR-10 and its halves, Greek letters, uploaded photo sets: found in
``VP_DATA_DIR``, the Keras cache or downloaded), ``unipen`` (people's pen strokes: digits and letters),
``zipdata`` (a zip of class folders, checked before anything is kept), ``samples`` (``assets/examples``),
``handwriting`` (MNIST's digits and the UNIPEN letters in one set of 36 classes, built from both files),
``font_letters`` (letters typeset in 252 handwriting fonts, for the handwriting set),
``greek_strokes`` (Greek letters written as pen strokes in several hands: a validation set),
``tiny_imagenet`` (the 200-class photo set of reports 001 and 003, from its standard folder).
May import: ``core.images``, ``core.base``.
"""

from core.data import (
    handwriting,  # noqa: F401 - registers the data set it builds in datasets.BUILDERS
    tiny_imagenet,  # noqa: F401 - registers tiny-ImageNet's spec and loader
)
