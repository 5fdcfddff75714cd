"""Grid and search page: report 002's hyperparameter grid on its small net, then a Ray Tune search of it."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_pages.ui.charts import panels
from app_pages.ui.run_panel import launch, require_store, runs_panel
from core.lab import presets, runs, search

st.title("Tuning the knobs")
st.write("Dropout, batch size and kernel size change how a network learns. Vary them on report 002's "
         "21,840-parameter net, one at a time or all together, then let a search pick for you.")

FACTORS = {"dropout": "dropout", "batch_size": "batch size", "kernel_size": "kernel size"}

st.header("1. The grid")
cols = st.columns(2)
mode = cols[0].radio("Vary", ["one at a time", "full grid"], horizontal=True, key="grid_mode",
                     help="One at a time: each factor around report 002's net (dropout 0.5, batch 40, kernel 5). "
                          "Full grid: every combination, 75 runs.")
preset = cols[1].radio("Size", list(presets.PRESETS), format_func=str.capitalize, horizontal=True, key="grid_preset",
                       help="\n".join(f"- **{k}**: {v}" for k, v in presets.PRESET_WORDS.items()))
plan = presets.grid(mode, preset)
st.caption(f"{len(plan)} runs of net002: {presets.describe([c.params() for c, _ in plan])}.")
if st.button("Launch the grid", type="primary", icon=":material/rocket_launch:", key="grid_launch"):
    launch([c for c, _ in plan], "grid", varied=[v for _, v in plan])
require_store()
runs_panel("grid")


done = [r for r in runs.search(lab="grid", status=["FINISHED"]) if presets.matches(r.params, preset)]
cells = runs.latest_by(done, lambda r: tuple(float(r.params[f]) for f in FACTORS))
rows = [{"dropout": k[0], "batch_size": int(k[1]), "kernel_size": int(k[2]),
         "before %": round(100 * r.metrics.get("test_accuracy_before", float("nan")), 1),
         "after %": round(100 * r.metrics.get("test_accuracy", float("nan")), 2),
         "seconds": r.metrics.get("train_seconds")} for k, r in sorted(cells.items())]
grid_table = pd.DataFrame(rows)
if rows:
    st.dataframe(grid_table.rename(columns=FACTORS), hide_index=True, width="stretch", placeholder="–")
    st.caption(f"Accuracy on MNIST's test digits before training (random weights: about 10%, a guess) and after. "
               f"{len(cells)} run{'s' if len(cells) > 1 else ''} of net002: "
               f"{presets.describe([r.params for r in cells.values()])}.")
    groups = []
    for i, factor in enumerate(FACTORS):
        at_base = pd.Series(True, index=grid_table.index)
        for other, value in presets.GRID_BASE.items():
            if other != factor:
                at_base &= grid_table[other] == value
        line = grid_table[at_base].sort_values(factor)
        report = presets.REPORT_002_GRID.get(factor, {})
        groups.append([
            go.Scatter(x=line[factor], y=line["after %"], mode="lines+markers", name="yours",
                       line=dict(color="#1f77b4"), showlegend=i == 0),
            go.Scatter(x=list(report), y=[v[1] for v in report.values()], mode="lines+markers", name="report 002",
                       line=dict(color="#ff7f0e", dash="dot"), showlegend=i == 0)])
    fig = panels(groups, list(FACTORS.values()), 320, x_title="", shared_y=True,
                 yaxis=dict(title="accuracy after, %"))
    for i, words in enumerate(FACTORS.values()):
        fig.layout[f"xaxis{'' if i == 0 else i + 1}"].title = words
    st.plotly_chart(fig, key="grid_plot", config={"displayModeBar": False})
    st.caption("Each panel varies one factor with the other two at report 002's values (dropout 0.5, batch 40, "
               "kernel 5).")
else:
    st.info("No finished grid runs at this size yet: launch the grid above.", icon=":material/grid_on:")

st.header("2. Let a search choose")
st.write(f"Ray Tune tries random settings from the same space ({search.SPACE_WORDS}) and, after every epoch, "
         "stops the trials falling behind (ASHA), so the time goes to the promising ones.")
cols = st.columns(2)
n_trials = cols[0].slider("Trials", 4, 32, 8, key="search_trials")
max_epochs = cols[1].slider("Epochs for a trial that is never stopped", 2, 8, 4, key="search_epochs")
if st.button("Start the search", type="primary", icon=":material/travel_explore:", key="search_launch"):
    try:
        with st.spinner("Starting the search..."):
            search.launch(n_trials, max_epochs, "quick")
        st.toast("Search started: trials appear below as they begin.", icon=":material/travel_explore:")
    except ValueError as e:
        st.error(f"Not started: {e}.")
runs_panel("search")

searches = [r for r in runs.search(lab="search") if r.kind == "search"]
if searches:
    latest = searches[0]
    trials = search.trials(latest.run_id)
    st.markdown(f"**Search {latest.number}** ({latest.state.lower()}): {len(trials)} of "
                f"{latest.params.get('trials')} trials started.")
    table = pd.DataFrame([{
        "run": t.number, "dropout": float(t.params["dropout"]), "batch size": int(t.params["batch_size"]),
        "kernel size": int(t.params["kernel_size"]),
        "epochs": len(runs.curves(t.run_id, ("val_accuracy",))["val_accuracy"]),
        "val accuracy": t.metrics.get("val_accuracy"), "test accuracy": t.metrics.get("test_accuracy"),
        "stopped early": {True: "yes", False: "no"}.get(t.stopped_early, "…"),
        "state": t.state.lower()} for t in trials])
    if not table.empty:
        st.dataframe(table.sort_values("val accuracy", ascending=False), hide_index=True, width="stretch",
                     placeholder="–", column_config={"val accuracy": st.column_config.NumberColumn(format="percent"),
                                    "test accuracy": st.column_config.NumberColumn(format="percent")})
    if latest.status == "FINISHED":
        best = latest.best
        picked = search.best_trial(latest, trials)
        tested = picked.metrics.get("test_accuracy") if picked else None
        st.success(f"Best configuration: dropout {float(best.get('dropout', 'nan')):.2f}, batch size "
                   f"{best.get('batch_size')}, kernel size {best.get('kernel_size')} (validation accuracy "
                   f"{latest.metrics.get('best_val_accuracy', float('nan')):.2%}"
                   + (f", test accuracy {tested:.2%}" if tested is not None else "") + ").",
                   icon=":material/emoji_events:")
        stopped = sum(t.stopped_early is True for t in trials)
        versus = search.against_grid(latest, trials, list(cells.values()))
        st.caption((versus + " " if versus else "") + f"The search trained {len(trials)} trials, "
                   f"{search.stopped_words(stopped, len(trials))}.")
