"""Pieces of UI the training-lab pages share: launching runs, and watching them train live."""

from __future__ import annotations

import json
import threading
import time

import plotly.graph_objects as go
import streamlit as st

from app_pages.ui import state
from app_pages.ui.charts import panels
from core.data.datasets import DataError
from core.lab import engine, runs, search

REFRESH_S = 2.0
RECENT_MAX = 200  # ended runs the panel lists (a full grid is 75; a sweep 12), in a box that scrolls past a dozen
SCROLL_ROWS = 12
clock = time.monotonic  # for tests
REPEAT_S = 15.0  # a launch of the same settings this soon after the last is a repeated press, not a new run
_launching = threading.Lock()  # two runs of one session's script may go on at once: see launch()
STATUS_ICONS = {"QUEUED": ":material/hourglass_empty:", "STARTING": ":material/hourglass_top:",
                "RUNNING": ":material/play_circle:",
                "FINISHED": ":material/check_circle:", "KILLED": ":material/cancel:", "FAILED": ":material/error:"}


@st.cache_resource(show_spinner="Opening the run store...")
def store() -> str:
    """Open the MLflow store once per server, marking FAILED any run an earlier app process left running."""
    fixed = runs.reconcile()
    return f"{runs.tracking_uri()} ({len(fixed)} orphaned run(s) marked FAILED on start)"


def store_problem() -> str | None:
    """Why the run store cannot be used (a dead tracking server, a read-only VP_HOME), in one sentence, or None.

    Answers within seconds; the Draw, Filters and Explain pages never need the store."""
    try:
        runs.client()  # the store named now (store() below is opened once per server)
        store()
    except runs.Unavailable as e:
        return str(e)
    return None


def require_store() -> None:
    """On a page made of runs: when the store cannot be used, say why and draw nothing more of the page."""
    problem = store_problem()
    if problem:
        st.error(f"The training lab cannot open its run store. {problem}", icon=":material/cloud_off:")
        st.stop()


def _launch_key(configs: list, lab: str, varied: list[tuple[str, ...]] | None) -> str:
    """What a launch asks for: the same key for the same settings, whichever button or key sent them."""
    return json.dumps([lab, [[type(c).__name__, c.params()] for c in configs], [list(v) for v in varied or []]],
                      sort_keys=True, default=str)


def _numbers(launched: list[runs.RunInfo]) -> str:
    numbers = [r.number for r in launched]
    if len(numbers) == 1:
        return f"run {numbers[0]}"
    return f"runs {min(numbers)}-{max(numbers)}"


def _claim(key: str) -> tuple[float | None, list[runs.RunInfo]] | None:
    """Note in the session that ``key`` is being launched, unless it is already, or was less than ``REPEAT_S`` s
    ago: then that launch's (end, runs), its end None while it goes on."""
    with _launching:
        recent = st.session_state.setdefault(state.LAUNCHES, {})
        now = time.monotonic()
        for old in [k for k, (ended, _) in recent.items() if ended is not None and now - ended >= REPEAT_S]:
            del recent[old]
        if key in recent:
            return recent[key]
        recent[key] = (None, [])
        return None


def _launched(key: str, launched: list[runs.RunInfo]) -> None:
    with _launching:
        recent = st.session_state.setdefault(state.LAUNCHES, {})
        if launched:
            recent[key] = (time.monotonic(), launched)  # a repeat is counted from the end of the launch
        else:
            recent.pop(key, None)  # nothing started: pressing again is not a repeat


def launch(configs: list, lab: str, varied: list[tuple[str, ...]] | None = None) -> list[runs.RunInfo]:
    """Launch runs on the engine (they queue when the cluster is busy); say so on the page.

    Once per press: the same settings sent again while they are being launched, or within ``REPEAT_S`` s after,
    launch nothing, and the page says so. Enter in a form's number box submits the form, and a click on Launch
    just after submits it again; so does a double click. Streamlit then stops the first run of the script at its
    next ``st`` call and starts the second at once, in another thread, while the first may still be inside
    ``engine.launch`` (fast reruns): the launch is claimed under a lock, after the last ``st`` call before
    ``engine.launch``, so a press stopped before it launched leaves no claim, and one that launches holds it.
    """
    problem = store_problem()
    if problem:
        st.error(f"Not launched: {problem}", icon=":material/error:")
        return []
    key = _launch_key(configs, lab, varied)
    group = f"{lab}-{int(time.time())}"
    launched, refused, unreachable = [], [], None
    with st.spinner("Starting the run engine..." if not engine.connected() else "Queueing runs..."):
        earlier = _claim(key)  # no st call from here to the last engine.launch
        if earlier is None:
            try:
                for i, config in enumerate(configs):
                    try:
                        launched.append(engine.launch(config, lab, group=group,
                                                      varied=(varied or [()] * len(configs))[i]))
                    except ValueError as e:
                        refused.append(e)
                    except (runs.Unavailable, DataError) as e:  # no cluster at RAY_ADDRESS, or no data set
                        unreachable = e
                        break
            finally:
                _launched(key, launched)
    if earlier is not None:
        ended, runs_then = earlier
        if ended is None:
            st.warning("These settings are being launched already: this press launched nothing more.",
                       icon=":material/content_copy:")
        else:
            ago = time.monotonic() - ended
            st.warning(f"Already launched with these settings {ago:.0f} s ago ({_numbers(runs_then)}), so this "
                       f"press launched nothing. To train the same settings once more, press again in "
                       f"{max(REPEAT_S - ago, 1):.0f} s.", icon=":material/content_copy:")
        return []
    for e in refused:
        st.error(f"Not launched: {e}.", icon=":material/error:")
    if unreachable is not None:
        st.error(f"Not launched: {unreachable}", icon=":material/error:")
    if launched:
        st.toast(f"Launched {len(launched)} run(s): they train in the background, even if you close this tab.",
                 icon=":material/rocket_launch:")
    return launched


def cancelling(run: runs.RunInfo) -> bool:
    """Whether someone asked a running run to stop: it ends at its next batch (or after its validation pass)."""
    return run.tags.get(runs.Tag.CANCEL) == "1" and run.status not in runs.TERMINAL


def time_left(run: runs.RunInfo) -> float | None:
    """The run's time left now: its worker's last estimate (from the batches measured so far), counted down since
    this session first saw it. A worker writes a new estimate about every second while batches run, none while it
    validates or tests: the number on screen kept still for as long (42 s for a ResNet), then jumped."""
    eta = run.metrics.get("eta_s")
    if eta is None or run.state != "RUNNING":
        return None
    seen = st.session_state.setdefault(state.ETA_SEEN, {})
    now = clock()
    first = seen.get(run.run_id)
    if first is None or first[0] != eta:
        seen[run.run_id] = first = (eta, now)
    return max(eta - (now - first[1]), 0.0)


def progress_caption(run: runs.RunInfo) -> str:
    if run.state == "QUEUED":
        return f"run {run.number}: queued (at most {engine.max_runs()} train at once)"
    if run.state == "STARTING":
        return f"run {run.number}: " + engine.starting_words(run)
    if run.kind == "search":  # a search has trials, not epochs, of its own
        return search.progress_words(run)
    epoch = int(run.metrics.get("epoch_now", 0))
    if cancelling(run):
        return f"run {run.number}: cancelling in epoch {epoch}, it stops at its next batch"
    eta = time_left(run)
    left = "" if eta is None else f", about {eta:.0f} s left" if eta >= 1 else ", finishing"
    return f"run {run.number}: epoch {epoch}/{run.params.get('epochs', '?')}, {run.progress:.0%}{left}"


def curves_figure(histories: dict[str, dict[str, list[tuple[int, float]]]], height: int = 300,
                  dashed: str = "validation") -> go.Figure:
    """Training and validation loss and accuracy of several runs, overlaid (solid: train, dashed: validation,
    or what ``dashed`` names: the Greek letters' runs are checked on the test letters)."""
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    groups: list[list[go.Scatter]] = [[], []]
    for i, (label, curves) in enumerate(histories.items()):
        colour = palette[i % len(palette)]
        for col, key in ((0, "loss"), (1, "accuracy")):
            for prefix, dash in (("", "solid"), ("val_", "dash")):
                points = curves.get(prefix + key, [])
                if points:
                    groups[col].append(go.Scatter(
                        x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers",
                        line=dict(color=colour, dash=dash), marker=dict(size=5),
                        name=f"{label} {dashed if prefix else 'train'}", legendgroup=label,
                        showlegend=col == 0, hovertemplate=f"{label}<br>epoch %{{x}}: %{{y:.4f}}<extra></extra>"))
    return panels(groups, ["loss", "accuracy"], height)


def live_curve(run: runs.RunInfo) -> go.Figure:
    """One running run: its training loss and accuracy batch by batch, and each finished epoch's validation ones.

    Each batch point is the mean of the batches since the point before (see ``kit.Reporter``), so both curves
    start with the first batches and run on across epochs; x counts epochs, fractions included.
    """
    c = runs.curves(run.run_id, ("progress", "batch_loss", "batch_accuracy", "val_loss", "val_accuracy"))
    epochs = float(run.metrics.get("epochs_total") or run.params.get("epochs", 1) or 1)
    at = {step: done * epochs for step, done in c["progress"]}
    groups: list[list[go.Scatter]] = [[], []]
    for col, key in enumerate(("loss", "accuracy")):
        batch = [(at[s], v) for s, v in c[f"batch_{key}"] if s in at]
        groups[col].append(go.Scatter(x=[b[0] for b in batch], y=[b[1] for b in batch], name="train (batches)",
                                      mode="lines" if len(batch) > 1 else "lines+markers",  # one point: a dot
                                      line=dict(color="#1f77b4"), showlegend=col == 0))
        val = c[f"val_{key}"]
        groups[col].append(go.Scatter(x=[p[0] for p in val], y=[p[1] for p in val], mode="lines+markers",
                                      name="validation", line=dict(color="#ff7f0e", dash="dash"),
                                      showlegend=col == 0))
    fig = panels(groups, ["loss", "accuracy"], 220)
    fig.update_xaxes(range=[0, epochs])
    fig.update_layout(yaxis=dict(rangemode="tozero"), yaxis2=dict(range=[0, 1], tickformat=".0%"))
    return fig


@st.fragment(run_every=REFRESH_S)
def runs_panel(lab: str | None = None, limit: int = RECENT_MAX) -> None:
    """Runs of ``lab``: those training first (with their live curves), then the queued ones, then those ended
    (up to ``limit``, in a box that scrolls): progress bars, time left, Cancel.

    Refreshes itself every 2 s as a fragment, so nothing else on the page reruns.
    """
    if store_problem():
        return  # the page says why (require_store, or Compare's own message)
    active = sorted(runs.search(lab=lab, status=runs.ACTIVE), key=lambda r: r.state != "RUNNING")  # stable: newest
    recent = [r for r in runs.search(lab=lab, max_results=limit + len(active)) if r.status in runs.TERMINAL][:limit]
    known = st.session_state.setdefault(f"active_{lab}", set())
    now = {r.run_id for r in active}
    if known - now:  # a run ended: refresh the whole page so its tables and plots take it in
        st.session_state[f"active_{lab}"] = now
        st.rerun(scope="app")
    st.session_state[f"active_{lab}"] = now
    if not active and not recent:
        st.caption("No runs yet: launch one above.")
        return
    for run in active:
        with st.container(border=True):
            top = st.columns([5, 1])
            if top[1].button("Cancel", key=f"cancel-{run.run_id}", icon=":material/stop_circle:",
                             disabled=cancelling(run)):
                engine.cancel(run.run_id)
                st.toast(f"Cancelling run {run.number}...")
                run = runs.get(run.run_id)  # shown cancelling now, not when its worker has stopped
            top[0].progress(run.progress, text=f"{STATUS_ICONS[run.state]} **{run.label}** · "
                                               f"{progress_caption(run)}")
            if run.state == "RUNNING" and run.metrics.get("batch_loss") is not None:
                st.plotly_chart(live_curve(run), key=f"live-{run.run_id}", config={"displayModeBar": False})
    if recent:
        with st.expander(f"Recent runs ({len(recent)})", expanded=not active):
            box = st.container(height=36 * SCROLL_ROWS) if len(recent) > SCROLL_ROWS else st.container()
            for run in recent:
                acc = run.metrics.get("test_accuracy")
                words = {"FINISHED": f"test accuracy {acc:.2%}" if acc is not None else "finished",
                         "KILLED": "cancelled", "FAILED": f"failed: {run.tags.get('vp.error', 'unknown error')}"}
                box.markdown(f"{STATUS_ICONS[run.state]} **{run.label}** · {words[run.state]}")
