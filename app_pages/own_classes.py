"""Your own classes: draw a few examples of each, and a new head on a drawing network's frozen features learns them."""

import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_pages.ui import charts, inputs, nets, owner
from core import own_classes
from core.data import zipdata
from core.images import preprocess
from core.nets import registry

st.title("Your own classes")
st.write("Teachable Machine's idea with the lid off: name a few classes, draw some examples, and a new last layer "
         "learns them on top of a network that stays frozen (by default one trained on digits and letters). Then "
         "see why it works, or does not.")

networks = [n for n in own_classes.NETWORKS if n in registry.available(dataset=None)]
if not networks:
    st.error(nets.NO_MODELS)
    st.stop()

# --- 1. The project -----------------------------------------------------------------------------------------
st.subheader("1. Your classes")
viewer = owner.browser_token()
if viewer is None:
    st.caption("Finding the projects this browser made...")
    st.stop()  # the browser sends its token and the page runs again
projects = own_classes.list_projects(viewer)
cols = st.columns([2, 3])
# No widget key: a new project changes the options, so the box starts afresh on the project just created.
current = st.session_state.get("own_current")
mine = [p for p in projects if own_classes.can_change(p, viewer)]
project = cols[0].selectbox(
    "Project", projects, placeholder="Create one on the right",
    index=projects.index(current) if current in projects else (projects.index(mine[0]) if mine else
                                                                  (0 if projects else None)),
    format_func=lambda p: p if p in mine else f"{p} (shared)",
    help="Your projects, and those others chose to share with everyone (marked shared).")
st.session_state["own_current"] = project
with cols[1].form("own_new", border=True):
    name = st.text_input("New project", placeholder="shapes")
    classes = st.text_input("Its classes, separated by commas (2 to 10)", placeholder="circle, cross, triangle")
    shared = st.checkbox("Share it with everyone who uses this app", value=False,
                         help="Others can then open it, add examples and train it; only you can delete it.")
    if st.form_submit_button("Create", icon=":material/add:"):
        try:
            own_classes.create_project(name, [c.strip() for c in classes.split(",") if c.strip()], viewer, shared)
            st.session_state["own_current"] = own_classes.clean_name(name)
            st.rerun()
        except own_classes.ProjectError as e:
            st.error(str(e), icon=":material/error:")
if project is None:
    st.info("Create a project to start: a name and the classes you will draw.", icon=":material/draw:")
    st.stop()
if project in mine:
    with cols[0].popover("Delete or share", icon=":material/settings:"):
        if st.button(f"Delete '{project}' for good", icon=":material/delete:", key="own_delete"):
            own_classes.delete_project(project, viewer)
            st.session_state.pop("own_current", None)
            st.rerun()
        try:
            is_shared = own_classes.project_info(project).get("shared", False) is True
        except own_classes.ProjectError:
            is_shared = None
        if is_shared is not None and st.toggle("Shared with everyone", value=is_shared, key=f"own_shared_{project}"
                                               ) != is_shared:
            own_classes.set_shared(project, not is_shared, viewer)
            st.rerun()
try:
    names = own_classes.class_names(project)
except own_classes.ProjectError as e:  # a damaged project.json: say which, and offer the two ways out
    st.error(str(e), icon=":material/error:")
    repair, delete = st.columns(2)
    if repair.button("Rebuild it from its examples", icon=":material/build:",
                     help="Reads the classes from its example folders; the head is then trained again."):
        own_classes.repair_project(project, viewer)
        st.rerun()
    if delete.button("Delete it", icon=":material/delete:", key="own_delete_damaged"):
        own_classes.delete_project(project, viewer)
        st.session_state.pop("own_current", None)
        st.rerun()
    st.stop()
network = st.selectbox("Frozen network", networks,
                       format_func=lambda n: registry.get(n).title, key="own_network",
                       help="Its penultimate features are what the new head learns from.")

# --- 2. Examples --------------------------------------------------------------------------------------------
st.subheader("2. Draw examples")
counts = own_classes.counts(project)
cls = st.pills("Class", names, default=names[0], key="own_class") or names[0]
cols = st.columns([1, 2])
with cols[0]:
    n_canvas = st.session_state.setdefault("own_canvas_n", 0)
    gray = inputs.drawing_canvas(f"own_canvas_{n_canvas}", shared=False)
    pre = preprocess.from_canvas(gray) if gray is not None else None
    if st.button(f"Add to {cls}", type="primary", icon=":material/add_circle:", disabled=pre is None or pre.empty):
        own_classes.add_example(project, cls, pre.image, drawing=gray)
        st.session_state["own_canvas_n"] = n_canvas + 1  # a fresh, blank canvas for the next example
        st.rerun()
with cols[1]:
    st.dataframe(pd.DataFrame({"class": names, "examples": [counts.get(c, 0) for c in names]}), hide_index=True)
    x_all, y_all, _ = own_classes.examples(project)
    for label, c in enumerate(names):
        shown = x_all[y_all == label][-12:]
        if len(shown):
            st.image([charts.to_png(img, 56) for img in shown], caption=None)
            st.caption(f"{c}: the last {len(shown)} of {counts.get(c, 0)}, as the network sees them")
with st.expander("Or upload pictures, or a zip of class folders"):
    files = st.file_uploader(f"Pictures of {cls}", type=inputs.UPLOAD_TYPES, accept_multiple_files=True,
                             key=f"own_upload_{n_canvas}")
    if files and st.button(f"Add {len(files)} picture(s) to {cls}"):
        for file in files:
            try:
                example = preprocess.to_mnist(preprocess.decode_image(file.getvalue()))
                if example.empty:
                    raise preprocess.InputError("no drawing found in it")
                own_classes.add_example(project, cls, example.image)
            except preprocess.InputError as e:
                st.error(f"{file.name} was not added: {e}.", icon=":material/error:")
        st.session_state["own_canvas_n"] = n_canvas + 1
        st.rerun()
    archive = st.file_uploader(f"A zip with one folder per class (at least {own_classes.MIN_IMPORT_PER_CLASS} "
                               f"pictures each)", type=["zip"],
                               key=f"own_zip_{n_canvas}")
    if archive is not None and st.button("Import the zip"):
        try:
            report = own_classes.import_examples(project, archive.getvalue())
            blank = report["skipped_empty"]
            st.success(f"Added {sum(report['added'].values())} pictures: "
                       + ", ".join(f"{k} {v}" for k, v in report["added"].items())
                       + (f". Left out {len(blank)} blank picture(s), with no drawing in them: "
                          f"{', '.join(blank[:5])}{'...' if len(blank) > 5 else ''}" if blank else ""))
        except (zipdata.ZipDataError, own_classes.ProjectError) as e:
            st.error(f"Nothing was imported: {e}", icon=":material/error:")

# --- 3. Train and look ----------------------------------------------------------------------------------------
st.subheader("3. Train the head")
ready = len(y_all) and min(counts.get(c, 0) for c in names) >= 2
if not ready:
    st.info("Draw at least 2 examples of each class (10 each gives a fair picture).", icon=":material/info:")
    st.stop()
try:
    head = own_classes.load_head(project, network)
except own_classes.ProjectError as e:  # a damaged head: training again writes a new one
    st.warning(f"{e} Press Train.", icon=":material/warning:")
    head = None
if st.button("Train", type="primary", icon=":material/model_training:"):
    with st.spinner("Computing the new examples' features and fitting the head..."):
        started = time.perf_counter()
        head = own_classes.train(project, network)
        st.session_state["own_seconds"] = time.perf_counter() - started
if head is None:
    st.caption("Not trained yet for this network.")
    st.stop()
if "own_seconds" in st.session_state:
    st.caption(f"Trained in {st.session_state['own_seconds']:.2f} s: the network's features of earlier examples "
               f"come from a cache, so only new drawings pass through it.")
X = own_classes.features(project, network)
scores = own_classes.held_out(X, y_all, names)
cols = st.columns(2)
with cols[0]:
    st.metric("Held-out accuracy", f"{scores['accuracy']:.0%}",
              help=f"Each example read by a head trained without it ({scores['folds']}-fold cross-validation).")
    st.dataframe(pd.DataFrame({"class": names, "held-out accuracy": scores["per_class_accuracy"]}), hide_index=True,
                 column_config={"held-out accuracy": st.column_config.NumberColumn(format="percent")})
    cm = np.asarray(scores["confusion_matrix"])
    heatmap = go.Heatmap(z=cm, x=names, y=names, colorscale="Blues", text=cm, texttemplate="%{text}",
                         hovertemplate="drawn as %{y}, read as %{x}: %{z}<extra></extra>")
    layout = dict(height=300, margin=dict(l=0, r=0, t=10, b=0), xaxis=dict(title="read as"),
                  yaxis=dict(title="drawn as", autorange="reversed"))
    st.plotly_chart(go.Figure(heatmap, layout=layout), key="own_cm", config={"displayModeBar": False})
with cols[1]:
    points = own_classes.feature_map(X, y_all)
    fig = go.Figure([go.Scatter(x=points[y_all == i, 0], y=points[y_all == i, 1], mode="markers", name=c,
                                marker=dict(size=9, color=charts.CLASS_COLOURS[i % len(charts.CLASS_COLOURS)]))
                     for i, c in enumerate(names)])
    fig.update_layout(height=420, margin=dict(l=0, r=0, t=10, b=0), xaxis=dict(title="1st principal component"),
                      yaxis=dict(title="2nd principal component"), legend=dict(orientation="h", y=-0.2))
    st.plotly_chart(fig, key="own_map", config={"displayModeBar": False})
    st.caption(f"Your examples in the frozen {registry.get(network).title}'s features, flattened to 2-D (PCA). "
               "Classes that form separate clouds are easy for a new last layer; overlapping ones are not, "
               "however many examples you add.")

st.subheader("4. Try it")


@st.fragment
def try_it(project: str, network: str) -> None:
    head = own_classes.load_head(project, network)
    cols = st.columns([1, 2])
    with cols[0]:
        gray = inputs.drawing_canvas("own_try", shared=False)
    pre = preprocess.from_canvas(gray) if gray is not None else None
    with cols[1]:
        if pre is None or pre.empty:
            st.info("Draw one of your classes.", icon=":material/draw:")
            return
        try:
            probs = own_classes.predict(head, network, pre.image)
        except own_classes.ProjectError as e:
            st.warning(str(e))
            return
        top = int(probs.argmax())
        st.metric("Reading", head.class_names[top])
        st.html(charts.prob_bars(probs, top, labels=head.class_names))


try_it(project, network)
st.download_button("Export the project (zip)", own_classes.export_project(project), f"{project}.zip",
                   icon=":material/download:", help="Class folders of PNGs and the trained head: import it again "
                                                    "here, or use it as a data set elsewhere.")
