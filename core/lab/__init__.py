"""The training lab: runs executed on Ray, recorded in MLflow, searched with Ray Tune, scored and compared.

Modules: ``runs`` (the MLflow run store: create, search, progress, results, cancel, reconcile; ``Tag``),
``engine`` (launch a recipe as a Ray task, watch it, cancel it; ``RECIPES``), ``search`` (a Ray Tune
search with ASHA), ``presets`` (the reports' experiments and figures, quick and full), ``evaluation``
(test predictions, cached), ``leaderboard`` (one table of shipped and lab models).
May import: every other package of ``core``.
"""
