"""Data sets page: what the networks learn from, and the CIFAR-10 networks trained from scratch."""

import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from app_pages.ui.run_panel import launch, runs_panel
from core.data import datasets
from core.lab import presets
from core.nets import registry
from core.training.train import TrainConfig

st.title("Data sets")
st.write("A network only knows what its data shows it. Look at the digits of MNIST and the small photos of "
         "CIFAR-10, count each class, and train the CIFAR-10 networks of reports 001 and 003 from scratch.")


@st.cache_resource(show_spinner="Loading the data set (CIFAR-10 takes about 10 s the first time)...")
def load(name: str):
    return datasets.load_dataset(name, download=False)


name = st.segmented_control("Data set", list(datasets.DATASETS), default="mnist", key="datasets_name",
                            format_func=lambda n: datasets.DATASETS[n].title) or "mnist"
spec = datasets.get_dataset(name)
try:
    (x_train, y_train), (x_test, y_test) = load(name)
except datasets.DataError as e:
    st.error(f"{spec.title} is not available here: {e}", icon=":material/error:")
    st.stop()

st.caption(f"{len(x_train):,} training and {len(x_test):,} test images of {' x '.join(map(str, spec.image_shape))} "
           f"pixels, {len(spec.classes)} classes. Found at {datasets.dataset_path(name) or 'the Keras download'}.")
cols = st.columns([3, 2])
with cols[0]:
    seed = st.session_state.get("datasets_seed", 0)
    grid = datasets.preview_grid(x_train, y_train, per_class=10, seed=seed)
    scale = 3 if name == "mnist" else 2
    picture = Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.Resampling.NEAREST)
    st.image(picture, caption="Ten random training images of each class, one row per class: "
                              + ", ".join(spec.classes), width="content")
    if st.button("Other examples", icon=":material/shuffle:"):
        st.session_state["datasets_seed"] = seed + 1
        st.rerun()
with cols[1]:
    fig = go.Figure([go.Bar(x=list(spec.classes), y=datasets.class_counts(y_train, len(spec.classes)), name="train"),
                     go.Bar(x=list(spec.classes), y=datasets.class_counts(y_test, len(spec.classes)), name="test")])
    fig.update_layout(barmode="group", height=360, margin=dict(l=0, r=0, t=30, b=0), title="Images per class",
                      xaxis=dict(type="category"), legend=dict(orientation="h", y=-0.2))
    st.plotly_chart(fig, key="datasets_balance", config={"displayModeBar": False})
    counts = datasets.class_counts(y_train, len(spec.classes))
    st.caption(f"From {counts.min():,} to {counts.max():,} training images per class: "
               + ("balanced enough that accuracy is a fair score." if counts.min() > 0.8 * counts.max()
                  else "unbalanced, so read macro-F1 beside accuracy."))

if name == "cifar10":
    st.header("Train a CIFAR-10 network from scratch")
    shipped = registry.card("cifar_resnet")
    if shipped:
        st.write(f"The app ships a {shipped['title']} trained for {shipped['epochs_run']} epochs "
                 f"({shipped['train_seconds'] / 60:.0f} min on {shipped['device']}): "
                 f"**{shipped['test_accuracy']:.1%}** on the 10,000 test photos; report 001's scratch CNN reached "
                 f"{presets.REPORT_001_CIFAR:.0%}.")
    models = [n for n, s in registry.REGISTRY.items() if s.dataset == "cifar10"]
    with st.form("cifar_launch"):
        cols = st.columns(4)
        model = cols[0].selectbox("Network", models, format_func=lambda n: registry.get(n).title)
        epochs = cols[1].number_input("Epochs", 1, 60, 3)
        limit = cols[2].number_input("Training photos (0: all 45,000)", 0, 45_000, 5000, step=1000)
        batch = cols[3].select_slider("Batch size", [32, 64, 128, 256], value=128)
        st.caption("A few epochs on 5,000 photos take a few minutes here and reach about 50-60%; the shipped "
                   "model's recipe (40 epochs on everything) takes about two hours on a laptop CPU.")
        if st.form_submit_button("Launch", type="primary", icon=":material/rocket_launch:"):
            try:
                launch([TrainConfig(model=model, epochs=int(epochs), limit=int(limit) or None,
                                    batch_size=int(batch))], "cifar")
            except ValueError as e:
                st.error(f"Not launched: {e}.", icon=":material/error:")
    runs_panel("cifar")
