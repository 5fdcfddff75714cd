"""Data sets page: what the networks learn from, and the CIFAR-10 networks trained from scratch."""

import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from app_pages.ui.run_panel import launch, runs_panel
from core.data import datasets, previews, tiny_download, tiny_imagenet
from core.lab import presets, tiny_presets
from core.nets import registry
from core.training.config import TrainConfig

st.title("Data sets")
PREVIEW_PER_CLASS = 10  # of the shipped overview's 20 a class: "Other examples" shows the other ten
NOT_RUN = "–"  # no run of ours yet (an empty cell would read "None")
PREVIEW_ROWS = 10  # classes shown at once when a set has more (tiny-ImageNet's 200): the teacher picks which

st.write("A network only knows what its data shows it. Look at the digits of MNIST and the small photos of "
         "CIFAR-10 and tiny-ImageNet, count each class, and train the CIFAR-10 networks of reports 001 and 003 "
         "from scratch.")


@st.cache_resource(show_spinner=False)
def overview(name: str, where: str) -> previews.Overview:  # ``where``: a copy of the set elsewhere is read anew
    return previews.overview(name)


def per_class_words(counts, what: str) -> str:
    """"5,000 training images a class", or "from 4,000 to 6,000 ..." when the classes differ."""
    return (f"{counts.min():,} {what} a class" if counts.min() == counts.max()
            else f"from {counts.min():,} to {counts.max():,} {what} a class")


@st.cache_data(ttl=60, show_spinner=False)
def online(url: str) -> bool:
    return tiny_download.reachable(url)


def offer_tiny_imagenet() -> None:
    """Without the folder: where to put it, and the download when the machine is online."""
    st.info(tiny_imagenet.where_to_put_it(), icon=":material/folder_off:")
    if datasets.data_dir() is None or not online(tiny_imagenet.DOWNLOAD_URL):
        return
    if st.button("Download tiny-ImageNet (about 240 MB)", icon=":material/download:", key="tiny_download"):
        bar = st.progress(0.0, text="Downloading tiny-ImageNet...")

        def progress(done: int, total: int | None) -> None:
            bar.progress(done / total if total else 0.0,
                         text=f"{done / 2**20:,.0f} of {total / 2**20:,.0f} MB" if total else f"{done / 2**20:,.0f} MB")

        try:
            folder = tiny_download.download(progress=progress)
        except datasets.DataError as e:
            st.error(f"Not downloaded: {e}", icon=":material/error:")
            return
        overview.clear()
        st.success(f"tiny-ImageNet is in {folder}.", icon=":material/check_circle:")
        st.rerun()


def tiny_imagenet_presets(present: bool) -> None:
    """Reports 001 and 003's experiments on tiny-ImageNet, beside their figures; greyed out without the folder."""
    st.header("Train on tiny-ImageNet: reports 001 and 003")
    if not present:
        st.caption("Greyed out until the folder is here (above): the presets train on its photos.")
    cols = st.columns(3)
    preset = cols[0].radio("Preset", list(tiny_presets.PRESETS), key="tiny_preset", disabled=not present,
                           format_func=lambda p: tiny_presets.PRESETS[p].title)
    side = cols[1].radio("Pixels", tiny_imagenet.SIDES, key="tiny_side", disabled=not present, horizontal=True,
                         format_func=lambda s: f"{s}x{s}" + (" (the reports')" if s == tiny_imagenet.SIDE else ""))
    size = cols[2].radio("Size", list(tiny_presets.SIZES), key="tiny_size", disabled=not present,
                         format_func=lambda z: f"{z}: {tiny_presets.SIZE_WORDS[z]}")
    names = dict(zip(*(tiny_imagenet.layout().wnids, tiny_imagenet.layout().names))) if present else {}
    default = tiny_presets.default_classes(preset) if present else None
    picked = st.multiselect(f"Classes (none picked: all {len(names) or tiny_imagenet.N_CLASSES})", list(names),
                            default=list(default or ()), key=f"tiny_classes_{preset}", disabled=not present,
                            format_func=names.get)
    report = tiny_presets.PRESETS[preset]
    rows = tiny_presets.beside_report(preset)
    st.dataframe([{"network": registry.get(r["model"]).title, report.where: f"{r['report']:.1%}",
                   "here": NOT_RUN if r["ours"] is None else f"{float(r['ours']):.1%}",
                   "classes": NOT_RUN if r["run"] is None else tiny_presets.classes_words(r["classes"]),
                   "pixels": NOT_RUN if r["side"] in (None, "None") else r["side"]} for r in rows],
                 hide_index=True, width="stretch")
    st.caption(tiny_presets.against_report(preset, rows))
    if st.button("Launch", type="primary", icon=":material/rocket_launch:", key="tiny_launch",
                 disabled=not present):
        try:
            configs = tiny_presets.configs(preset, size, tuple(picked) or None, int(side))
        except (ValueError, datasets.DataError) as e:
            st.error(f"Not launched: {e}.", icon=":material/error:")
        else:
            launch(configs, tiny_presets.LAB, varied=[("model",)] * len(configs))
    if present:
        runs_panel(tiny_presets.LAB)


titles = {n: s.title for n, s in datasets.DATASETS.items()} | {tiny_imagenet.NAME: tiny_imagenet.TITLE}
name = st.segmented_control("Data set", list(titles), default="mnist", key="datasets_name",
                            format_func=titles.get) or "mnist"
if name == tiny_imagenet.NAME and tiny_imagenet.find() is None:
    offer_tiny_imagenet()
    tiny_imagenet_presets(present=False)
    st.stop()
try:
    spec = datasets.get_dataset(name)
    with st.spinner(f"Reading {spec.title}{datasets.first_read_words(name)}..."):
        view = overview(name, str(datasets.dataset_path(name)))
except datasets.DataError as e:
    st.error(f"{titles[name]} is not available here: {e}", icon=":material/error:")
    st.stop()

n_train, n_test = int(view.train_counts.sum()), int(view.test_counts.sum())
# The lab's training (core.training.train) holds out val_size of a large set's training images to watch each epoch;
# the small sets (Greek letters, uploads) are learnt by transfer, from all of them.
validation = TrainConfig.val_size if n_train > 2 * TrainConfig.val_size else 0
held_out = (f"{n_train - validation:,} training + {validation:,} validation images (of the {n_train:,} training "
            "images, held out to watch each epoch)" if validation else f"{n_train:,} training images")
st.caption(f"{held_out} and {n_test:,} test images of {' x '.join(map(str, spec.image_shape))} pixels, "
           f"{len(spec.classes)} classes. "
           f"Found at {datasets.dataset_path(name) or 'the Keras download'}.")
cols = st.columns([3, 2])
with cols[0]:
    seed = st.session_state.get("datasets_seed", 0)
    rows = list(range(len(spec.classes)))
    if len(rows) > PREVIEW_ROWS:  # tiny-ImageNet's 200 classes: a row each would be a page long
        rows = st.multiselect(f"Classes shown ({len(spec.classes)} in all)", rows, default=rows[:PREVIEW_ROWS],
                              max_selections=PREVIEW_ROWS, format_func=lambda c: spec.classes[c],
                              key=f"datasets_rows_{name}") or rows[:1]
    x_shown, y_shown = previews.only(view, rows)
    shown = int(min(PREVIEW_PER_CLASS, datasets.class_counts(y_shown, len(rows)).min()))
    grid = datasets.preview_grid(x_shown, y_shown, per_class=shown, seed=seed)
    scale = 3 if name == "mnist" else 2
    picture = Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.Resampling.NEAREST)
    st.image(picture, caption=f"{shown} random training images of each class, one row per class: "
                              + ", ".join(spec.classes[c] for c in rows), width="content")
    if st.button("Other examples", icon=":material/shuffle:"):
        st.session_state["datasets_seed"] = seed + 1
        st.rerun()
with cols[1]:
    fig = go.Figure([go.Bar(x=list(spec.classes), y=view.train_counts, name="train"),
                     go.Bar(x=list(spec.classes), y=view.test_counts, name="test")])
    fig.update_layout(barmode="group", height=360, margin=dict(l=0, r=0, t=30, b=0), title="Images per class",
                      xaxis=dict(type="category"), legend=dict(orientation="h", y=-0.2))
    st.plotly_chart(fig, key="datasets_balance", config={"displayModeBar": False})
    counts = view.train_counts
    st.caption(per_class_words(counts, "training images").capitalize() + ": "
               + ("balanced enough that accuracy is a fair score." if counts.min() > 0.8 * counts.max()
                  else "unbalanced, so read macro-F1 beside accuracy."))

if name == "cifar10":
    st.header("Train a CIFAR-10 network from scratch")
    shipped = registry.card("cifar_resnet")
    took = f"{shipped['train_seconds'] / 3600:.1f} hours on {shipped['device']}" if shipped else ""
    if shipped:
        st.write(f"The app ships a {shipped['title']} trained for {shipped['epochs_run']} epochs "
                 f"({took}): "
                 f"**{shipped['test_accuracy']:.1%}** on the 10,000 test photos; report 001's scratch CNN reached "
                 f"{presets.REPORT_001_CIFAR:.0%}.")
    models = [n for n, s in registry.REGISTRY.items() if s.dataset == "cifar10"]
    with st.form("cifar_launch"):
        cols = st.columns(4)
        model = cols[0].selectbox("Network", models, format_func=lambda n: registry.get(n).title)
        epochs = cols[1].number_input("Epochs", 1, 60, 3)
        fit = spec.n_train - validation
        limit = cols[2].number_input(f"Training photos (0: all {fit:,})", 0, fit, 5000, step=1000)
        batch = cols[3].select_slider("Batch size", [32, 64, 128, 256], value=128)
        st.caption("A few epochs on 5,000 photos take a few minutes here and reach about 50-60%; the shipped "
                   f"model's recipe ({shipped['epochs_run'] if shipped else 40} epochs on all {fit:,}) took "
                   f"{took or 'hours'}.")
        if st.form_submit_button("Launch", type="primary", icon=":material/rocket_launch:"):
            try:
                launch([TrainConfig(model=model, epochs=int(epochs), limit=int(limit) or None,
                                    batch_size=int(batch))], "cifar")
            except ValueError as e:
                st.error(f"Not launched: {e}.", icon=":material/error:")
    runs_panel("cifar")

if name == tiny_imagenet.NAME:
    tiny_imagenet_presets(present=True)
