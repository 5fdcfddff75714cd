"""Compare page: every trained network on one honest table, and where each one goes wrong."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_pages.ui.charts import to_png
from app_pages.ui.nets import predictor
from app_pages.ui.run_panel import curves_figure, launch, runs_panel, store_problem
from core.data import datasets
from core.lab import evaluation, leaderboard, lessons, presets, runs
from core.nets import registry
from core.training.config import TrainConfig

st.title("Compare networks")
st.write("Which network reads MNIST best, how big is it, how long did it train, and how fast does it answer? "
         "Pick rows to see where each one goes wrong, as report 004 compared its DNN, ConvNet and ResNet.")


@st.cache_data(show_spinner="Timing each network on this machine (once per network and machine)...",
               max_entries=64)
def ms_per_image(name: str, version: int) -> float:
    return evaluation.kept_ms_per_image(name, lambda: predictor(name))


@st.cache_data(show_spinner="Scoring the test images (once per network)...", max_entries=32)
def predictions(name: str, version: int) -> np.ndarray:
    # A shipped network's answers ship beside it: the network itself is loaded only to compute a run's.
    shipped = evaluation.shipped_answers(name)
    return shipped[0] if shipped is not None else evaluation.test_predictions(name, predictor(name))


@st.cache_data(max_entries=32)
def scores(name: str, version: int) -> dict:
    return evaluation.scores(evaluation.test_labels(name), predictions(name, version))


@st.cache_resource(show_spinner=False)
def test_set(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    return evaluation.test_set(dataset)


def test_images(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    with st.spinner(f"Loading {possessive(datasets.get_dataset(dataset).title)} test images"
                    f"{datasets.first_read_words(dataset)}..."):
        return test_set(dataset)


def table(with_runs: bool) -> pd.DataFrame:
    rows = leaderboard.shipped_rows() + (leaderboard.run_rows() if with_runs else [])
    for row in rows:
        try:
            row["ms / image"] = round(ms_per_image(row["name"], registry.version(row["name"])), 2)
        except (registry.ModelNotFound, OSError, ValueError):  # a run's model file gone or damaged: no timing
            row["ms / image"] = None
        report = presets.REPORT_004_TABLE1.get(row["name"])
        row["report 004"] = f"{report[0]:.1%}" if report else ""
    return pd.DataFrame(rows)


def possessive(title: str) -> str:
    """"MNIST's", but "CIFAR-10, last five classes'"."""
    return f"{title}'" if title.endswith("s") else f"{title}'s"


def picture(image: np.ndarray) -> np.ndarray:
    return np.asarray(to_png(image, 84))


def confusion(cm: list[list[int]], classes: tuple[str, ...], title: str) -> go.Figure:
    z = np.asarray(cm)
    off = z.astype(float).copy()
    np.fill_diagonal(off, np.nan)  # the diagonal dwarfs the mistakes: colour the mistakes only
    fig = go.Figure(go.Heatmap(z=off, x=list(classes), y=list(classes), colorscale="Reds", text=z,
                               texttemplate="%{text}", hovertemplate="true %{y}, read %{x}: %{text}<extra></extra>",
                               showscale=False))
    fig.update_layout(title=title, height=360, margin=dict(l=0, r=0, t=30, b=0),
                      xaxis=dict(title="predicted", type="category"),
                      yaxis=dict(title="true", autorange="reversed", type="category"))
    return fig


store_down = store_problem()  # a dead tracking server: the shipped networks are still compared
if store_down:
    st.error(f"The networks trained in the lab are not shown: {store_down}", icon=":material/cloud_off:")
df = table(with_runs=not store_down)
shown = df.drop(columns=["name"])
st.caption("Click rows to compare them below. Shipped networks come with the app; those named \"run\" were "
           "trained in the lab (their runs are in MLflow). Accuracy is on the test images; ms / image is one "
           "drawing's call on this machine.")
# Report 004 beside the accuracy it is compared with, and widths that fit a 1400 px window with the sidebar open
# (tests/test_pages_browser.py); the source column is left out of view: a lab run's name says "run".
WIDTHS = {"network": 200, "data": 90, "test accuracy": 75, "report 004": 75, "macro-F1": 70, "parameters": 80,
          "epochs": 55, "training s": 75, "ms / image": 75, "device": 100}
picked = st.dataframe(shown, key="compare_table", on_select="rerun", selection_mode="multi-row",
                      hide_index=True, width="stretch", column_order=list(WIDTHS),
                      column_config={name: st.column_config.Column(width=width) for name, width in WIDTHS.items()}
                      | {"test accuracy": st.column_config.NumberColumn("accuracy", format="percent", width=75),
                         "macro-F1": st.column_config.NumberColumn(format="%.4f", width=70),
                         "parameters": st.column_config.NumberColumn(format="localized", width=80)})
rows = picked.selection.rows if picked is not None else []
names = [df.iloc[i]["name"] for i in rows] or [n for n in registry.DRAW_MODELS if n in set(df["name"])][:1]
if not rows:
    st.caption(f"Showing the {registry.get(names[0]).title} until you pick rows." if names else "")

for dataset in dict.fromkeys(registry.get(n).dataset for n in names):
    group = [n for n in names if registry.get(n).dataset == dataset]
    classes = datasets.get_dataset(dataset).classes
    try:  # the shipped networks' answers come with their labels: no test set to read before the first charts
        probs = {n: predictions(n, registry.version(n)) for n in group}
        scored = {n: scores(n, registry.version(n)) for n in group}
    except datasets.DataError as e:
        st.error(f"The {datasets.get_dataset(dataset).title} test set is not available here, so the details below "
                 f"cannot be shown: {e}")
        continue
    total = len(next(iter(probs.values())))
    st.subheader(f"On {possessive(datasets.get_dataset(dataset).title)} {total:,} test images")
    tabs = st.tabs(["Confusion matrix", "Per class", "Mistakes", "Training curves"])
    with tabs[0]:
        st.caption("Each cell counts test images of the row's class read as the column's: the diagonal (right "
                   "answers) is left white so the mistakes stand out.")
        for col, n in zip(st.columns(min(len(group), 3)), group):
            col.plotly_chart(confusion(scored[n]["confusion_matrix"], classes, registry.get(n).title),
                             key=f"cm-{n}", config={"displayModeBar": False})
    with tabs[1]:
        per_class = pd.DataFrame({
            (registry.get(n).title, k): scored[n][f"per_class_{k}"] for n in group for k in ("precision", "recall",
                                                                                          "f1")}, index=classes)
        st.dataframe(per_class.style.format("{:.3f}"), width="stretch")
    with tabs[3]:  # before the mistakes, whose pictures may take a while to read the first time
        histories = {}
        for n in group:
            if n.startswith(registry.RUN_PREFIX):
                histories[registry.get(n).title] = runs.curves(n[len(registry.RUN_PREFIX):])
            else:
                h = (registry.card(n) or {}).get("history", {})
                histories[registry.get(n).title] = {k: list(enumerate(v, start=1)) for k, v in h.items()}
        verdicts = [lessons.lesson(h, len(classes)).words(name) for name, h in histories.items()]
        said = [v for v in verdicts if v]
        st.caption("Solid: training; dashed: validation. Overfitting shows as validation loss rising while training "
                   f"loss falls, epoch after epoch ({lessons.OVERFIT_EPOCHS} or more). "
                   + (" ".join(said) if said else "None of these curves shows it, and none diverged."))
        st.plotly_chart(curves_figure(histories), key="compare-curves", config={"displayModeBar": False})
    with tabs[2]:
        try:
            x_test, y_test = test_images(dataset)
        except datasets.DataError as e:
            st.error(f"The {datasets.get_dataset(dataset).title} test images are not available here: {e}")
            continue
        for n in group:
            wrong = evaluation.mistakes(y_test, probs[n], limit=16)
            missed = int((probs[n].argmax(1) != y_test).sum())
            st.markdown(f"**{registry.get(n).title}** gets {missed} of {len(y_test):,} wrong; "
                        f"the most confident mistakes:")
            st.image([picture(x_test[m["index"]]) for m in wrong],
                     caption=[f"{classes[m['true']]} read as {classes[m['predicted']]} ({m['confidence']:.0%})"
                              for m in wrong], width=84)

shipped_digits = [n for n in registry.DRAW_MODELS if n in set(df["name"])]
if len(shipped_digits) > 1:
    with st.expander("Where the shipped networks disagree"):
        try:
            x_test, y_test = test_images("mnist")
            probs = {n: predictions(n, registry.version(n)) for n in shipped_digits}
            split = evaluation.disagreements(probs, limit=16)
            st.caption(f"Test digits on which the {', '.join(registry.get(n).title for n in shipped_digits)} "
                       f"give different answers: often digits a person would hesitate over too.")
            st.image([picture(x_test[d["index"]]) for d in split],
                     caption=[f"label {y_test[d['index']]}: " + " / ".join(str(v) for v in d["answers"].values())
                              for d in split], width=84)
        except datasets.DataError as e:
            st.error(f"MNIST is not available here: {e}")

st.subheader("Train another")
quick = presets.preset("quick")
st.write("Train a network of your choice; it joins the table when it finishes, and the Draw and Filters pages "
         f"can use it. It starts from the lab's quick settings ({presets.PRESET_WORDS['quick']}).")
with st.form("compare_launch"):
    cols = st.columns(4)
    model = cols[0].selectbox("Network", [n for n, s in registry.REGISTRY.items() if s.dataset == "mnist"],
                              format_func=lambda n: registry.get(n).title)
    epochs = cols[1].number_input("Epochs", 1, 50, quick["epochs"])
    limit = cols[2].number_input("Training digits (0: all 55,000)", 0, 55_000, quick["limit"], step=1000)
    lr = cols[3].select_slider("Learning rate", [0.1, 0.01, 0.003, 0.001, 0.0003, 0.0001], value=0.001)
    if st.form_submit_button("Launch", icon=":material/rocket_launch:", type="primary"):
        try:
            launch([TrainConfig(model=model, **(quick | dict(epochs=int(epochs), limit=int(limit) or None,
                                                             learning_rate=lr)))], "compare")
        except ValueError as e:
            st.error(f"Not launched: {e}.", icon=":material/error:")
runs_panel("compare")
