"""The training lab: runs executed on Ray, recorded in MLflow, searched with Ray Tune, scored and compared.

Modules: ``runs`` (the runs in the MLflow store: create, search, progress, results, cancel, reconcile; ``Tag``),
``store`` (the store opened: a local one made under a file lock, one left half-made made again),
``engine`` (launch a recipe as a Ray task, watch it, cancel it; ``RECIPES``), ``reach`` (quick looks at what
``RAY_ADDRESS``, ``MLFLOW_TRACKING_URI`` and ``VP_HOME`` name: one clear sentence, not minutes of retries;
standard library only), ``search`` (a Ray Tune
search with ASHA), ``presets`` (the reports' experiments and figures, quick and full), ``evaluation``
(test predictions, cached), ``leaderboard`` (one table of shipped and lab models).
May import: every other package of ``core``.
"""
