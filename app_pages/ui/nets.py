"""The networks a page reads with: cached models and predictors, the lab's finished runs, the picker."""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading

import keras
import streamlit as st

from core.base import settings
from core.lab import reach, runs
from core.nets import browser, inference, registry

_warming = threading.Lock()
_checked: set[str] = set()  # the run stores this process has checked for runs an earlier app left running
WARMING = "warm-run-store"  # the side thread that imports MLflow and opens the store
AHEAD = "index-ahead"  # the side thread that computes the Explain page's nearest-digit indexes at server start
_ahead: threading.Thread | None = None


# Cached per file version, so a model retrained while the app runs is picked up, not served stale.
@st.cache_resource(show_spinner="Loading a trained network...", max_entries=8)
def _model(name: str, version: int) -> keras.Model:
    return registry.load(name)


def model(name: str) -> keras.Model:
    """A shipped model, loaded once per server (and again when its file changes)."""
    return _model(name, registry.version(name))


@st.cache_resource(show_spinner="Preparing a trained network...", max_entries=8)
def _predictor(name: str, version: int) -> inference.Predictor:
    ready = inference.Predictor(name, model(name))
    # The networks, TensorFlow and the libraries are here for the server's life: moved out of the garbage
    # collector's sight, its full collections stop scanning them. With 30 learners drawing, each full collection
    # had stopped every session for up to 0.9 s (bench/bench_classroom.py: p95 287 -> 195 ms, max 1.3 -> 0.6 s).
    gc.collect()
    gc.freeze()
    return ready


def predictor(name: str) -> inference.Predictor:
    """A shipped model ready for one-image calls (compiled once per server and model file)."""
    return _predictor(name, registry.version(name))


def predictors(names: list[str] | None = None) -> dict[str, inference.Predictor]:
    """The chosen models (default: the shipped Draw models), ready for one-image calls."""
    chosen = names if names is not None else registry.DRAW_MODELS
    return {name: predictor(name) for name in chosen if registry.version(name)}


@st.cache_data(ttl=10, show_spinner=False)
def _lab_models(dataset: str) -> list[str]:
    try:
        return runs.finished_models(dataset)
    except Exception:  # noqa: BLE001 - an unreachable run store must not break the drawing pages
        return []


def _warm_store(reconcile: bool = False) -> None:
    try:
        runs.client()  # imports MLflow and opens the store
        if reconcile:
            runs.reconcile()
    except reach.Unavailable as error:  # its sentence says all; no traceback to format on a side thread
        logging.getLogger(__name__).warning("could not open the run store: %s", error)
    except Exception:  # noqa: BLE001 - an unreachable run store must not break the drawing pages
        logging.getLogger(__name__).warning("could not open the run store", exc_info=True)


def reconcile_on_start() -> None:
    """When the server starts, mark FAILED the runs an earlier app process left RUNNING (their local cluster died
    with it), so MLflow and the pages stop showing them as training; once per process and store.

    On a side thread: MLflow takes a second or two to import, and the first page must not wait for it. Nothing
    happens without a store (no run was ever launched): there is then nothing to fix, and no MLflow to load.
    """
    uri = runs.tracking_uri()
    with _warming:
        if uri in _checked or not runs.store_exists():
            return
        _checked.add(uri)
        threading.Thread(target=_warm_store, args=(True,), name=WARMING, daemon=True).start()


def build_indexes_ahead() -> threading.Thread | None:
    """When the server starts, time every shipped network for Compare's table, and compute the Explain page's
    nearest-digit index of every shipped network that is not kept yet (a few seconds for the DNN, minutes for the
    ResNet on a busy 2-core machine), so that a first visit to either waits for neither; once per process.

    On a side thread at the lowest priority, one network at a time: no page waits for it. Two servers starting
    at once share the work: each network's features are computed by one of them, the other reads them. None when
    ``VP_INDEX_AHEAD=0`` (the tests' servers: each would compute them in its own ``VP_HOME``).
    """
    global _ahead
    with _warming:
        if _ahead is None and settings.VP_INDEX_AHEAD.value() != "0":
            _ahead = threading.Thread(target=_build_indexes, name=AHEAD, daemon=True)
            _ahead.start()
    return _ahead


def _build_indexes() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # Linux: this thread only
    except (AttributeError, OSError):
        pass  # another system: at the server's priority
    try:
        from core.explain import neighbours  # faiss and the models: on this thread, not the first page's
        from core.lab import evaluation

        # Compare's speed column first (seconds a network), then the indexes (minutes for the ResNet).
        logging.getLogger(__name__).info("ms per image: %s", evaluation.time_ahead())
        for built in neighbours.build_ahead():
            logging.getLogger(__name__).info("nearest-digit index: %s", built)
    except Exception:  # noqa: BLE001 - the page builds what is missing itself; the server goes on
        logging.getLogger(__name__).warning("could not build the nearest-digit indexes (or time the networks) "
                                            "ahead", exc_info=True)


def lab_models(dataset: str = "mnist") -> list[str]:
    """Models trained in the lab on ``dataset`` (``run:<id>``), newest first; checked again every 10 s.

    MLflow takes a second or two to import. On a fresh server it is loaded by a side thread, so the first
    drawing is not kept waiting: the lab's models are offered from the next stroke on.
    """
    if not runs.store_exists():
        return []
    if "mlflow" not in sys.modules:
        with _warming:
            if not any(t.name == WARMING for t in threading.enumerate()):
                threading.Thread(target=_warm_store, name=WARMING, daemon=True).start()
        return []
    return _lab_models(dataset)


def title(name: str) -> str:
    """A model's title: 'ResNet', or 'ConvNet, run 7 (lr 0.01)' for one trained in the lab."""
    try:
        return registry.get(name).title
    except registry.ModelNotFound:
        return name


def network_picker(key: str) -> list[str]:
    """Which networks read the drawing: the shipped three by default, and any trained in the lab."""
    shipped = [n for n in (*registry.DRAW_MODELS, "net002") if registry.version(n)]
    options = shipped + lab_models("mnist")
    default = [n for n in registry.DRAW_MODELS if n in shipped]
    chosen = st.multiselect("Networks", options, default=default, format_func=title, key=key, max_selections=4,
                            help="Networks trained in the Training lab appear here when their runs finish.")
    return chosen or default


NO_MODELS = "No trained models found in assets/models. Train them with `./train_all.sh`."


@st.cache_data(max_entries=4)
def _best_model(versions: tuple[int, ...]) -> str:
    return registry.best_model()


@st.cache_data(ttl=10, show_spinner=False)
def live_models(lab: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The networks that read a drawing in the browser while the pen moves: the shipped ones, and of the ``lab``
    networks (``run:<id>``) those exported for the browser (``live_reading_offer``). Kept 10 s: finding a lab
    network's file asks the run store, and the Draw page asks after every stroke."""
    return tuple(browser.live_models(lab))


def live_reading_offer(names: list[str]) -> None:
    """For each chosen lab network without a browser copy, a button that makes one; until then it answers at
    pen-up only. The copy is Keras' ONNX export, checked against the network on MNIST digits (seconds)."""
    lab = tuple(n for n in names if n.startswith(registry.RUN_PREFIX))
    for name in (n for n in lab if n not in live_models(lab)):
        if st.button(f"Read {title(name)} live too", key=f"live-{name}", icon=":material/bolt:",
                     help="It reads your drawing after every stroke now; with a copy in the browser it also "
                          "reads it while the pen moves, like the shipped networks."):
            try:
                with st.spinner(f"Making a browser copy of {title(name)}..."):
                    browser.export(name)
            except (OSError, ValueError, registry.ModelNotFound) as e:
                st.error(f"Could not make a browser copy of {title(name)}: {e}")
                return
            live_models.clear()
            st.rerun(scope="fragment")


def best_model() -> str:
    """The Draw model behind ``Prediction``: the most accurate on MNIST's test set."""
    return _best_model(tuple(registry.version(n) for n in registry.DRAW_MODELS))
