"""Pieces of UI the training-lab pages share: launching runs, and watching them train live."""

from __future__ import annotations

import time

import plotly.graph_objects as go
import streamlit as st

from app_pages.ui.charts import panels
from core.data.datasets import DataError
from core.lab import engine, runs

REFRESH_S = 2.0
STATUS_ICONS = {"QUEUED": ":material/hourglass_empty:", "RUNNING": ":material/play_circle:",
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


def launch(configs: list, lab: str, varied: list[tuple[str, ...]] | None = None) -> list[runs.RunInfo]:
    """Launch runs on the engine (they queue when the cluster is busy); say so on the page."""
    problem = store_problem()
    if problem:
        st.error(f"Not launched: {problem}", icon=":material/error:")
        return []
    group = f"{lab}-{int(time.time())}"
    launched = []
    with st.spinner("Starting the run engine..." if not engine.connected() else "Queueing runs..."):
        for i, config in enumerate(configs):
            try:
                launched.append(engine.launch(config, lab, group=group, varied=(varied or [()] * len(configs))[i]))
            except ValueError as e:
                st.error(f"Not launched: {e}.", icon=":material/error:")
            except (runs.Unavailable, DataError) as e:  # no cluster at RAY_ADDRESS, or the data set is missing
                st.error(f"Not launched: {e}", icon=":material/error:")
                break
    if launched:
        st.toast(f"Launched {len(launched)} run(s): they train in the background, even if you close this tab.",
                 icon=":material/rocket_launch:")
    return launched


def progress_caption(run: runs.RunInfo) -> str:
    if run.state == "QUEUED":
        return f"run {run.number}: queued (at most {engine.max_runs()} train at once)"
    eta = run.metrics.get("eta_s")
    epoch = int(run.metrics.get("epoch_now", 0))
    left = f", about {eta:.0f} s left" if eta is not None and run.state == "RUNNING" else ""
    return f"run {run.number}: epoch {epoch}/{run.params.get('epochs', '?')}, {run.progress:.0%}{left}"


def curves_figure(histories: dict[str, dict[str, list[tuple[int, float]]]], height: int = 300) -> go.Figure:
    """Training and validation loss and accuracy of several runs, overlaid (solid: train, dashed: validation)."""
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
                        name=f"{label} {'validation' if prefix else 'train'}", legendgroup=label,
                        showlegend=col == 0, hovertemplate=f"{label}<br>epoch %{{x}}: %{{y:.4f}}<extra></extra>"))
    return panels(groups, ["loss", "accuracy"], height)


def live_curve(run: runs.RunInfo) -> go.Figure:
    """One running run: the loss batch by batch, and each finished epoch's validation loss and accuracy."""
    c = runs.curves(run.run_id, ("batch_loss", "progress", "val_loss", "val_accuracy", "accuracy"))
    epochs = float(run.params.get("epochs", 1) or 1)
    by_step = dict(c["progress"])
    batch = [(by_step[s] * epochs, v) for s, v in c["batch_loss"] if s in by_step]
    left = [go.Scatter(x=[b[0] for b in batch], y=[b[1] for b in batch], mode="lines", name="train (batches)",
                       line=dict(color="#1f77b4"))]
    right = []
    for key, group, colour, name in (("val_loss", left, "#ff7f0e", "validation"),
                                     ("accuracy", right, "#1f77b4", "train"),
                                     ("val_accuracy", right, "#ff7f0e", "validation")):
        group.append(go.Scatter(x=[p[0] for p in c[key]], y=[p[1] for p in c[key]], mode="lines+markers",
                                name=name, line=dict(color=colour, dash="dash" if "val" in key else "solid"),
                                showlegend=key != "val_accuracy"))
    fig = panels([left, right], ["loss", "accuracy"], 220)
    fig.update_xaxes(range=[0, epochs])
    return fig


@st.fragment(run_every=REFRESH_S)
def runs_panel(lab: str | None = None, limit: int = 12) -> None:
    """Runs of ``lab`` (queued, training, recently ended): progress bars, time left, live curves, Cancel.

    Refreshes itself every 2 s as a fragment, so nothing else on the page reruns.
    """
    if store_problem():
        return  # the page says why (require_store, or Compare's own message)
    active = runs.search(lab=lab, status=runs.ACTIVE)
    recent = [r for r in runs.search(lab=lab, max_results=limit) if r.status in runs.TERMINAL]
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
            top[0].progress(run.progress, text=f"{STATUS_ICONS[run.state]} **{run.label}** · "
                                               f"{progress_caption(run)}")
            if top[1].button("Cancel", key=f"cancel-{run.run_id}", icon=":material/stop_circle:"):
                engine.cancel(run.run_id)
                st.toast(f"Cancelling run {run.number}...")
            if run.state == "RUNNING" and run.metrics.get("batch_loss") is not None:
                st.plotly_chart(live_curve(run), key=f"live-{run.run_id}", config={"displayModeBar": False})
    if recent:
        with st.expander(f"Recent runs ({len(recent)})", expanded=not active):
            for run in recent:
                acc = run.metrics.get("test_accuracy")
                words = {"FINISHED": f"test accuracy {acc:.2%}" if acc is not None else "finished",
                         "KILLED": "cancelled", "FAILED": f"failed: {run.tags.get('vp.error', 'unknown error')}"}
                st.markdown(f"{STATUS_ICONS[run.state]} **{run.label}** · {words[run.state]}")

