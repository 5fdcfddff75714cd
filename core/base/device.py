"""Which device TensorFlow computes on, and how many CPU threads it may take.

The app shares a small CPU with its own web server, so interactive inference
runs on few threads; training, which owns the machine, runs on all of them.
Threading must be set before TensorFlow runs its first op, hence one helper
that pages and the CLI call at start-up.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

_configured: bool | None = None


def configure_threads(intra_op: int | None, inter_op: int | None = 1) -> bool:
    """Cap TensorFlow's CPU thread pools; for either pool, None keeps TensorFlow's default.

    Only the first call counts: TensorFlow freezes its pools once it has run.
    Returns whether the caps are in force (False when TensorFlow had already started).
    """
    global _configured
    if _configured is not None:
        return _configured
    try:
        if intra_op is not None:
            tf.config.threading.set_intra_op_parallelism_threads(intra_op)
        if inter_op is not None:
            tf.config.threading.set_inter_op_parallelism_threads(inter_op)
        _configured = True
    except RuntimeError:
        _configured = False  # TensorFlow already initialised: it keeps the pools it has
    return _configured


def gpu_names() -> list[str]:
    """Names of the visible GPUs, empty on a CPU-only machine."""
    names = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        names.append(details.get("device_name", gpu.name))
    return names


def device_label() -> str:
    """A short human label for the device in use: the GPU name, or 'CPU (n cores)'."""
    gpus = gpu_names()
    if gpus:
        return "GPU: " + ", ".join(gpus)
    return f"CPU ({os.cpu_count()} cores)"
