"""Data sets: the catalogue and its readers, real pen strokes, checked uploads, example pictures.

Modules: ``datasets`` (MNIST, CIFAR-10 and its halves, Greek letters, uploaded photo sets: found in
``VP_DATA_DIR``, the Keras cache or downloaded), ``unipen`` (people's pen strokes: digits and letters),
``zipdata`` (a zip of class folders, checked before anything is kept), ``samples`` (``assets/examples``).
May import: ``core.images``, ``core.base``.
"""
