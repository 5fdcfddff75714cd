"""Vision Playground core: everything but the pages, in packages by job, dependencies one way.

From the bottom up (each imports only those below it; ``lint-imports`` checks it):

- ``base``: paths, device, metrics, colours, one atomic file write;
- ``images``: the one preprocessing path, pen strokes, augmentations;
- ``data``: the data set catalogue, people's pen strokes, checked zip uploads, example pictures;
- ``nets``: architectures, the model registry, model surgery (heads, freezing, features), inference;
- ``explain`` | ``training`` | ``own_classes``: why a network answered so; the training recipes; your own
  classes (a head on frozen features). None of the three imports another;
- ``lab``: the run store (MLflow), the run engine (Ray), searches (Ray Tune), presets, evaluation;
- ``__main__``: the command line.

Nothing here imports Streamlit, so every function can be called from a page, the command line, a test or
a background training process.
"""
