"""Every environment variable the app reads, with its default and meaning, in one place.

The modules that need a setting read it through here (``settings.VP_HOME.value()``), so this list is complete:
``tests/test_settings.py`` fails when a module under ``core/``, ``app_pages/`` or ``app.py`` reads ``os.environ``
itself, and when the README's settings table misses a setting or gives another default.

A default written with ``$`` (``sqlite:///$VP_HOME/mlflow.db``) is worked out by the module that uses the setting;
``None`` means "unset": the feature it names is off (no cluster to join, no data folder).
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, its value when unset (as the README writes it), and what it does."""

    name: str
    default: str | None
    meaning: str

    def get(self) -> str | None:
        """The variable's value, or None when it is unset or empty."""
        return os.environ.get(self.name) or None

    def value(self) -> str | None:
        """The variable's value, or its default when it is unset or empty."""
        return self.get() or self.default

    def number(self, least: int = 1) -> int:
        """The value as a whole number of at least ``least``; the default when it is not a number."""
        try:
            return max(least, int(self.value()))
        except (TypeError, ValueError):
            return max(least, int(self.default))


# --- what a user or a teacher sets (the README's settings table) ---------------------------------------------

VP_HOME = Setting("VP_HOME", "~/.vision-playground",
                  "the app's own folder: the run store, run models, caches, checkpoints, own-classes projects")
VP_DATA_DIR = Setting("VP_DATA_DIR", None,
                      "the folder of data sets (mnist.npz, cifar10.npz, UNIPEN strokes, Greek letters); unset: the "
                      "Keras cache, then a download")
MLFLOW_TRACKING_URI = Setting("MLFLOW_TRACKING_URI", "sqlite:///$VP_HOME/mlflow.db",
                              "a shared MLflow tracking server instead of the SQLite file (artifacts in "
                              "$VP_HOME/mlartifacts)")
RAY_ADDRESS = Setting("RAY_ADDRESS", None,
                      "a Ray cluster started with `ray start` to submit runs to; unset: a private local cluster "
                      "starts on the first launch")
VP_MAX_RUNS = Setting("VP_MAX_RUNS", "2",
                      "runs that train at once on this machine, shared by the app and every `python -m core run` "
                      "with the same VP_HOME; the others wait, shown as queued")
VP_GPUS_PER_RUN = Setting("VP_GPUS_PER_RUN", "1",
                          "on a cluster with GPUs: GPUs per run (more than one trains with MirroredStrategy)")
RAY_AUTH_TOKEN = Setting("RAY_AUTH_TOKEN", None,
                         "the token of a cluster started with token authentication on another machine "
                         "(`ray get-auth-token` on its head prints it)")
RAY_AUTH_TOKEN_PATH = Setting("RAY_AUTH_TOKEN_PATH", "~/.ray/auth_token",
                              "the file holding this machine's Ray token, when RAY_AUTH_TOKEN is unset")
RAY_AUTH_MODE = Setting("RAY_AUTH_MODE", None,
                        "Ray's own: `disabled` joins a cluster without a token; unset: token mode whenever this "
                        "machine has a token")
KERAS_HOME = Setting("KERAS_HOME", "~/.keras",
                     "where ImageNet weights are looked for (its models/ folder), besides $VP_HOME/weights")
VP_CLASS_DB = Setting("VP_CLASS_DB", "sqlite:///$VP_HOME/classes.db",
                      "the class store (Class page): a PostgreSQL URL (postgresql+psycopg://user@host/db) lets "
                      "several app servers behind a load balancer share one class")
VP_INDEX_AHEAD = Setting("VP_INDEX_AHEAD", "1",
                         "1: a server computes the Explain page's nearest-digit indexes and times the networks for "
                         "Compare when it starts (on a side thread); 0: the pages do on first use")
MLFLOW_HTTP_REQUEST_MAX_RETRIES = Setting("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3",
                                          "MLflow's retries of a request to a tracking server (MLflow's own "
                                          "default is 7)")
MLFLOW_HTTP_REQUEST_TIMEOUT = Setting("MLFLOW_HTTP_REQUEST_TIMEOUT", "30",
                                      "seconds MLflow waits for a tracking server's answer (MLflow's own: 120)")

SETTINGS = (VP_HOME, VP_DATA_DIR, MLFLOW_TRACKING_URI, RAY_ADDRESS, VP_MAX_RUNS, VP_GPUS_PER_RUN, RAY_AUTH_TOKEN,
            RAY_AUTH_TOKEN_PATH, RAY_AUTH_MODE, KERAS_HOME, VP_CLASS_DB, VP_INDEX_AHEAD,
            MLFLOW_HTTP_REQUEST_MAX_RETRIES, MLFLOW_HTTP_REQUEST_TIMEOUT)

# --- what the engine and Ray set for a run's worker (never set by hand) --------------------------------------

VP_RUN_SLOTS = Setting("VP_RUN_SLOTS", "0",
                       "set on a local run's task by the engine: how many run slots the machine has (0: none to take)")
CUDA_VISIBLE_DEVICES = Setting("CUDA_VISIBLE_DEVICES", None,
                               "set by Ray for a worker given a GPU: the worker then leaves TensorFlow's threads be")
OMP_NUM_THREADS = Setting("OMP_NUM_THREADS", "1",
                          "set by Ray for a CPU worker: its share of the cores, TensorFlow's threads within an op")

WORKER_SETTINGS = (VP_RUN_SLOTS, CUDA_VISIBLE_DEVICES, OMP_NUM_THREADS)
