"""Learning-rate page: report 004's table 2, re-run by the student, filled in as runs finish."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_pages.ui.run_panel import launch, require_store, runs_panel
from core.lab import lessons, presets, runs
from core.nets import registry

st.title("How the learning rate changes everything")
st.write("The learning rate is the size of each step down the loss. Too big and training jumps around or blows up; "
         "too small and it crawls. Train the DNN, the ConvNet and the ResNet at four learning rates, as report 004 "
         "did, and see which survive.")

MODELS = ("dnn", "convnet", "resnet")
TITLES = {m: registry.get(m).title for m in MODELS}
cols = st.columns([2, 3])
preset = cols[0].radio("Size", list(presets.PRESETS), format_func=str.capitalize, horizontal=True, key="lr_preset",
                       help="\n".join(f"- **{k}**: {v}" for k, v in presets.PRESET_WORDS.items()))
models = cols[1].multiselect("Networks", MODELS, default=MODELS, format_func=TITLES.get, key="lr_models")
require_store()
finished = [r for r in runs.search(lab="lr-sweep", status=["FINISHED"]) if presets.matches(r.params, preset)]
latest = runs.latest_by(finished, lambda r: (r.model, float(r.params["learning_rate"])))
words = presets.PRESET_WORDS[preset]
took = presets.seconds_words(finished, TITLES)
st.caption(f"{words[0].upper() + words[1:]}. Adam at each learning rate, no augmentation, "
           f"{len(models) * len(presets.LEARNING_RATES)} runs; they queue and train a few at a time. "
           + (f"Training took {took} here (your finished runs at this size)." if took else
              "How long a run takes here is shown once one has finished."))
if st.button("Launch the sweep", type="primary", icon=":material/rocket_launch:", disabled=not models):
    launch(presets.lr_sweep(tuple(models), preset), "lr-sweep", varied=[("learning_rate",)] * 12)
with st.expander("Train one cell (again)", icon=":material/replay:"):
    cells = [(m, lr) for m in MODELS for lr in presets.LEARNING_RATES]
    missing = [cell for cell in cells if cell not in latest]
    st.caption("No cell has a finished run at this size yet." if len(missing) == len(cells) else
               "No finished run at this size yet for " + ", ".join(f"the {TITLES[m]} at {lr:g}" for m, lr in missing)
               + "." if missing else "Every cell has a finished run at this size; train one again to compare.")
    cols = st.columns([2, 2, 2])
    first = missing[0] if missing else cells[0]
    cell_model = cols[0].selectbox("Network", MODELS, index=MODELS.index(first[0]), format_func=TITLES.get,
                                   key="lr_cell_model")
    cell_lr = cols[1].selectbox("Learning rate", presets.LEARNING_RATES,
                                index=presets.LEARNING_RATES.index(first[1]), format_func="{:g}".format,
                                key="lr_cell_rate")
    if cols[2].button("Launch this cell", icon=":material/rocket_launch:", key="lr_cell_launch"):
        launch(presets.lr_sweep((cell_model,), preset, (cell_lr,)), "lr-sweep", varied=[("learning_rate",)])
runs_panel("lr-sweep")

st.subheader("Table 2, yours beside report 004's")
rows = []
for model in MODELS:
    row = {"network": TITLES[model]}
    for lr in presets.LEARNING_RATES:
        run = latest.get((model, lr))
        ours = (f"{run.metrics['test_accuracy']:.3f} / {run.metrics['macro_f1']:.3f}" if run else "…")
        report = presets.REPORT_004_TABLE2[model][lr]
        row[f"lr {lr:g}: yours"] = ours
        row[f"lr {lr:g}: report"] = f"{report[0]:.3f} / {report[1]:.3f}"
    rows.append(row)
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
st.caption(f"Accuracy / macro-F1 on MNIST's 10,000 test digits. Yours: the latest finished run of each cell with "
           f"the {preset} preset ({len(latest)} of 12 cells so far). The report trained for longer, on all digits.")

fig = go.Figure()
colours = {"dnn": "#1f77b4", "convnet": "#ff7f0e", "resnet": "#2ca02c"}
for model in ("dnn", "convnet", "resnet"):
    points = sorted((lr, run.metrics["test_accuracy"]) for (m, lr), run in latest.items() if m == model)
    title = registry.get(model).title
    if points:
        fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers",
                                 name=f"{title} (yours)", line=dict(color=colours[model])))
    report = presets.REPORT_004_TABLE2[model]
    fig.add_trace(go.Scatter(x=list(report), y=[v[0] for v in report.values()], mode="lines+markers",
                             name=f"{title} (report 004)", line=dict(color=colours[model], dash="dot"),
                             marker=dict(symbol="x")))
# A tick at each learning rate, in plain decimals: left to itself a log axis says "100μ" and adds "5" and "2" between.
rates = list(presets.LEARNING_RATES)
fig.update_layout(height=380, margin=dict(l=0, r=0, t=10, b=0), yaxis=dict(title="test accuracy", tickformat=".0%"),
                  xaxis=dict(title="learning rate", type="log", autorange="reversed", tickvals=rates,
                             ticktext=[np.format_float_positional(lr, trim="-") for lr in rates]))
st.plotly_chart(fig, key="lr_plot", config={"displayModeBar": False})
verdicts = [lessons.of_run(run.run_id).words(f"The {registry.get(m).title} at learning rate {lr:g}")
            for (m, lr), run in sorted(latest.items(), key=lambda item: (item[0][0], -item[0][1]))]
said = [v for v in verdicts if v]
st.caption("The x axis runs from large steps (left) to small ones (right). "
           + (" ".join(said) if said else "None of your runs has diverged: no training loss blew up, ended above "
                                          "where it began, or sat at the loss of guessing." if latest else ""))
differences = presets.against_report_004({cell: run.metrics["test_accuracy"] for cell, run in latest.items()
                                          if "test_accuracy" in run.metrics})
if differences:
    why = (f"Why: these runs train {presets.PRESET_WORDS['quick']}, where the report trained on all of "
           f"MNIST's training digits for longer. So few steps favour the middle rates: at 0.0001 they are too "
           f"small to get far, and a net knocked out in its first batches at 0.1 has few left to recover. For the "
           f"report's scale, choose the **Full** size above: {presets.PRESET_WORDS['full']}."
           if preset == "quick" else "")
    st.markdown("**Where yours differ from report 004.** " + " ".join(differences) + (" " + why if why else ""))
