"""The ground floor: where the app keeps its files, which device it computes on, scores, colours, one atomic write.

Modules: ``paths`` (``VP_HOME``, the project's ``ROOT``), ``files`` (``atomic_path``), ``device`` (threads,
GPU, its label), ``metrics`` (accuracy, macro-F1, per-class scores, confusion matrix), ``colormap``,
``memory`` (freed memory back to the operating system).
May import: nothing of ``core``.
"""
