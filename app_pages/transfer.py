"""Transfer page: an MNIST network re-used to read Greek letters from 27 examples (report 002, part C)."""

import pandas as pd
import streamlit as st

from app_pages.ui import charts, inputs, nets
from app_pages.ui.run_panel import curves_figure, launch, require_store, runs_panel
from core.data import datasets
from core.images import preprocess
from core.lab import lessons, runs
from core.nets import registry
from core.training import letter_transfer, many_hands

CLASSES = datasets.get_dataset("greek").classes
REPORT_002 = {"test accuracy": "80% (12 of 15)", "trainable": 153, "source": "net002, frozen"}
LEGEND_ROW = 22  # px: one row of a chart's legend
NOT_GIVEN = "–"  # a figure the report does not give (an empty cell would read "None")


def _count(n) -> str:
    return NOT_GIVEN if n is None else f"{int(n):,}"


def _seconds(s) -> str:
    return NOT_GIVEN if s is None else f"{float(s):.0f}"

st.title("Transfer learning: from digits to Greek letters")
st.write("A network that learnt to read digits has learnt strokes, loops and crossings on the way. Keep those "
         "layers, swap the last one for a new one with 3 outputs, and it reads α, β and γ from only 27 examples.")


@st.cache_data(show_spinner=False)
def _param_table(source: str) -> pd.DataFrame:
    return pd.DataFrame(letter_transfer.param_table(source))


@st.cache_data(show_spinner=False)
def _letters() -> tuple:
    try:
        return datasets.load_dataset("greek"), None
    except datasets.DataError as e:
        return None, str(e)


sources = [n for n in registry.available(dataset=None) if registry.get(n).dataset in registry.SOURCE_DATASETS]
if not sources:
    st.error(nets.NO_MODELS)
    st.stop()

st.subheader("1. Swap the head")
cols = st.columns([2, 3])
source = cols[0].selectbox("Start from", sources, index=sources.index("net002") if "net002" in sources else 0,
                           format_func=lambda n: registry.get(n).title, key="transfer_source",
                           help="The network trained on MNIST (or, the handwriting one, on digits and letters) whose "
                                "layers are re-used.")
cols[1].dataframe(_param_table(source), hide_index=True, width="stretch")
st.caption("Parameters before and after, as report 002's figure 11 shows them. Frozen, only the new last layer "
           "learns: its weights are the features times 3 letters, plus 3 biases. The other two rows are the "
           "controls: the same network with every layer finetuned, and the same network started from random "
           "weights.")

letters, problem = _letters()
if problem:
    st.warning(f"The letters to train on are not here: {problem}. The shipped Greek model below still works.",
               icon=":material/folder_off:")
else:
    (x_fit, y_fit), (x_test, y_test) = letters
    with st.expander(f"The data: {len(x_fit)} training letters, {len(x_test)} test letters by another hand"):
        st.image(charts.to_png(preprocess.scale_pixels(datasets.preview_grid(x_fit, y_fit, per_class=9)), 9 * 56),
                 caption="Training letters (photos of ink on grey paper), after the app's one preprocessing path: "
                         "ink made white, cropped, fitted into 20x20, centred by mass, like MNIST.")

st.subheader("2. Train: frozen, finetuned, from scratch")
cols = st.columns([3, 1])
# A box each, one under the other: on a phone a multiselect's box hid the last recipe, and pills ran off screen.
cols[0].markdown("Recipes")
modes = [m for m in letter_transfer.MODES
         if cols[0].checkbox(letter_transfer.MODE_TITLES[m], value=True, key=f"transfer_mode_{m}")]
epochs = cols[1].number_input("Epochs", 1, 200, 30, key="transfer_epochs",
                              help="Retrained and from-scratch networks see each letter 20 times an epoch, distorted "
                                   "afresh each time; a frozen base's new head learns from the clean letters.")
if st.button("Train", type="primary", icon=":material/rocket_launch:", disabled=not modes or bool(problem)):
    launch([letter_transfer.TransferConfig(source=source, mode=m, epochs=int(epochs)) for m in modes], "transfer",
           varied=[("mode",)] * len(modes))
require_store()
runs_panel("transfer")

finished = [r for r in runs.search(lab="transfer", status=["FINISHED"]) if r.recipe == "transfer"]
latest: dict[tuple[str, str], runs.RunInfo] = {}
for run in finished:  # newest first: the latest run of each (source, recipe)
    latest.setdefault((run.params.get("source", ""), run.params.get("mode", "")), run)
# The accuracy first: on a phone only the first two or three columns fit on screen.
rows = [{"test accuracy": REPORT_002["test accuracy"], "recipe": REPORT_002["source"], "network": "report 002",
         "trainable": _count(REPORT_002["trainable"]), "frozen": NOT_GIVEN, "seconds": NOT_GIVEN}]
shipped = registry.card("greek")
if shipped:
    n = shipped["n_test"]
    rows.append({"test accuracy": f"{shipped['test_accuracy']:.0%} ({round(shipped['test_accuracy'] * n)} of {n})",
                 "recipe": letter_transfer.MODE_TITLES[shipped["mode"]],
                 "network": f"shipped: {registry.get(shipped['source']).title}",
                 "trainable": _count(shipped["transfer_params"]["trainable"]),
                 "frozen": _count(shipped["transfer_params"]["non_trainable"]),
                 "seconds": _seconds(shipped["train_seconds"])})
for (src, mode), run in sorted(latest.items()):
    acc = run.metrics.get("test_accuracy", 0.0)
    rows.append({"test accuracy": f"{acc:.0%} ({round(acc * len(CLASSES) * 4)} of {len(CLASSES) * 4})",
                 "recipe": letter_transfer.MODE_TITLES[mode], "network": f"{registry.get(src).title}, run {run.number}",
                 "trainable": _count(run.metrics.get("trainable_params")),
                 "frozen": _count(run.metrics.get("non_trainable_params")),
                 "seconds": _seconds(run.metrics.get("train_seconds"))})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
st.caption("Scored on the test letters, drawn by someone who drew none of the training letters. With so few "
           "letters, one mistake is 8 points: read the counts, not the percentages.")

st.markdown("**One hand or many.** Report 002's head learnt from one person's letters. On letters by other "
            "people, the hands the shipped model never saw:")
try:
    with st.spinner("Scoring both on the held-out hands (about a minute the first time, then kept)..."):
        hands = many_hands.scores()
except (datasets.DataError, registry.ModelNotFound) as e:
    st.info(f"Not scored here: {e}", icon=":material/folder_off:")
else:
    cols = st.columns(2)
    for col, answers, title in ((cols[0], hands.one_hand, f"Report 002's recipe: one hand, "
                                 f"{hands.one_hand_trainable} weights"),
                                (cols[1], hands.many_hands, f"Shipped: many hands, {hands.many_hands_trainable} "
                                 "weights")):
        col.metric(title, f"{hands.accuracy(answers):.0%}", help=f"{hands.right(answers)} of {hands.n} held-out "
                   "letters: font families and shapes of letters no Greek model here trained on.")
    st.caption(lessons.hands_words(hands))
if latest:
    picked = st.multiselect("Curves of", list(latest.values()), default=list(latest.values())[:3],
                            format_func=lambda r: r.label, key="transfer_curves")
    if picked:
        # Short names ("run 7, finetune"), and room below the axis titles for the legend's rows: on a phone the
        # run's full label did not fit, so the legend covered the axis title and was cut ("test lette").
        figure = curves_figure({f"run {r.number}, {r.params.get('mode', '')}": runs.curves(r.run_id)
                                for r in picked}, dashed="test letters")
        below = LEGEND_ROW * 2 * len(picked)  # a solid and a dashed entry a run, a row each on a phone
        figure.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.25, xanchor="left", x=0),
                             margin=dict(b=75 + below), height=300 + 75 + below)
        st.plotly_chart(figure, key="transfer_curve_plot", config={"displayModeBar": False})
        st.caption("Solid: the training letters. Dashed: the test letters, shown for the picture only; "
                   "nothing was tuned on them.")

st.subheader("3. Draw a letter")
greek_models = [n for n in registry.available(dataset="greek")] + nets.lab_models("greek")
if not greek_models:
    st.info("No Greek model yet: train one above, or run `./train_all.sh greek`.")
    st.stop()
name = st.selectbox("Model", greek_models, format_func=nets.title, key="greek_model")


@st.fragment
def letter_reader(name: str) -> None:
    cols = st.columns([1, 2])
    with cols[0]:
        gray = inputs.drawing_canvas("greek_canvas", shared=False)  # blank: not the digit drawn on another page
    pre = preprocess.from_canvas(gray) if gray is not None else None
    with cols[1]:
        if pre is None or pre.empty:
            st.info("Draw α, β or γ on the canvas.", icon=":material/draw:")
            return
        probs, ms = nets.predictor(name).predict(pre.image)
        top = int(probs.argmax())
        st.metric("Reading", f"{'αβγ'[top]} ({CLASSES[top]})")
        st.caption(" · ".join(f"{c}: {p:.1%}" for c, p in zip(CLASSES, probs)) + f" — {ms:.1f} ms")
        st.html(charts.prob_bars(probs, top, labels=list(CLASSES)))
        st.image(charts.to_png(pre.image), caption="what the network sees", width=112)


letter_reader(name)
