"""Backbones page: a network trained on some photos re-used for others (reports 000, 001, 003)."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_pages.ui.run_panel import launch, require_store, runs_panel
from core.data import datasets, tiny_imagenet, zipdata
from core.lab import runs
from core.nets import backbones, registry
from core.training import backbone_transfer

st.title("Transfer learning: backbones for new photos")
st.write("A network trained on thousands of photos has learnt edges, textures and parts. Re-use it for new "
         "classes and a few labelled photos go a long way: compare it with training from scratch as the "
         "number of labels grows.")

own = [n for n in backbone_transfer.OWN_BACKBONES if registry.get(n).path().is_file()]
names = own + list(backbones.BACKBONES)
source, halves = datasets.get_dataset("cifar5_source"), datasets.get_dataset("cifar5_target")


def backbone_title(name: str) -> str:
    """'CIFAR-5 ResNet-9 backbone' for the project's own; an ImageNet network's Keras name."""
    return registry.get(name).title if name in registry.REGISTRY else name


WORDS = {"cifar5_resnet": f"the project's ResNet-9, trained on {', '.join(source.classes)} only",
         "cifar_resnet": "the shipped CIFAR-10 ResNet-9 (it has seen all ten classes: an upper bound, not a fair test)"}

st.subheader("1. The backbone")
cols = st.columns([2, 2, 1])
backbone = cols[0].selectbox("Backbone", names, key="bb_backbone",
                             format_func=lambda n: registry.get(n).title if n in registry.REGISTRY else
                             f"{n} (ImageNet, keras.applications)")
if backbone in WORDS:
    st.caption(f"{registry.get(backbone).title}: {WORDS[backbone]}. It is re-used for "
               f"{', '.join(halves.classes)}, which it has never been taught.")
weights, size = "imagenet", 32
if backbone in backbones.BACKBONES:
    size = cols[1].selectbox("Input size", backbones.INPUT_SIZES, key="bb_size",
                             help="CIFAR-10's photos are 32x32; ImageNet networks saw 224x224, so the reports "
                                  "upsampled them (slower, often better).")
    missing = backbones.missing_weights_message(backbone, size)
    weights = cols[2].radio("Weights", ["imagenet", "random"], key="bb_weights", index=1 if missing else 0,
                            help="random: the same network with nothing learnt, the control.")
    if missing:  # said plainly whichever is chosen: random weights are the offline choice
        (st.warning if weights == "imagenet" else st.info)(missing, icon=":material/cloud_off:")
if not own:
    st.info("The project's CIFAR backbone is not trained on this machine yet: run `./train_all.sh backbone` "
            "(about 30 minutes here), or use an ImageNet network.", icon=":material/info:")

st.subheader("2. The photos to learn")
uploads = datasets.uploaded_datasets()
tiny_here = tiny_imagenet.find() is not None
target = st.selectbox("Photos", [backbone_transfer.TARGET, *uploads, tiny_imagenet.NAME], key="bb_target",
                      format_func=lambda n: tiny_imagenet.TITLE + ("" if tiny_here else " (not on this machine)")
                      if n == tiny_imagenet.NAME else datasets.get_dataset(n).title
                      + (f": {', '.join(datasets.get_dataset(n).classes)}" if n == backbone_transfer.TARGET else ""))
tiny_classes = None
if target == tiny_imagenet.NAME and not tiny_here:
    st.info(tiny_imagenet.where_to_put_it() + " The Data sets page offers the download when the machine is online.",
            icon=":material/folder_off:")
elif target == tiny_imagenet.NAME:
    found = tiny_imagenet.layout()
    names = dict(zip(found.wnids, found.names))
    tiny_classes = tuple(st.multiselect(f"Classes to learn (none picked: all {len(names)})", list(names),
                                        default=list(found.wnids[:5]), format_func=names.get,
                                        key="bb_tiny_classes")) or None
    st.caption("tiny-ImageNet's photos at 32x32, as reports 001 and 003 used them; its labelled val split is the "
               "test set. The project's backbones learnt CIFAR-10's classes, never these.")
with st.expander("Bring your own photos: a zip with one folder per class"):
    st.caption("At least 2 classes and 5 pictures in each. The zip is checked before anything is kept (pictures "
               "only, sizes, no paths outside its folder, no zip bomb); each photo is cropped square and shrunk to "
               "32x32, and a fifth of each class is kept aside to test on.")
    upload_name = st.text_input("Name", placeholder="animals", key="bb_upload_name")
    archive = st.file_uploader("Zip of class folders", type=["zip"], key="bb_upload")
    if archive is not None and st.button("Add these photos", icon=":material/upload:"):
        try:
            added = datasets.add_uploaded_dataset(upload_name or archive.name.removesuffix(".zip"), archive.getvalue())
            st.success(f"Added {datasets.get_dataset(added).title}: {', '.join(datasets.get_dataset(added).classes)}.")
            st.rerun()
        except (zipdata.ZipDataError, datasets.DataError) as e:
            st.error(f"Nothing was added: {e}", icon=":material/error:")

st.subheader("3. Recipes and labels")
cols = st.columns([3, 3, 1, 1])
allowed = backbone_transfer.MODES if backbone in backbone_transfer.OWN_BACKBONES else ("frozen", "finetune")
default = backbone_transfer.default_modes(backbone)
modes = cols[0].multiselect("Recipes", allowed, default=list(default), key="bb_modes",
                            format_func=backbone_transfer.MODE_TITLES.get)
labels = cols[1].multiselect("Labelled photos per class", backbone_transfer.LABELS_PER_CLASS,
                             default=list(backbone_transfer.DEFAULT_LABELS), key="bb_labels",
                             help="5000 is every training photo of those classes.")
epochs = cols[2].number_input("Epochs", 1, 100, 15, key="bb_epochs")
unfreeze = cols[3].number_input("Fine-tune top layers", 1, 400, 20, key="bb_unfreeze",
                                help="How many of the backbone's last layers learn when fine-tuning.")
drop_last = 0
if backbone in backbones.BACKBONES:
    drop_last = st.slider("Layers cut off the backbone's top", 0, 20, 0, key="bb_drop",
                          help="Report 000 cut the last 10: earlier features are less specific to ImageNet.")
st.caption(f"By default one comparison, two runs: \"{backbone_transfer.MODE_TITLES[default[0]]}\" against "
           f"\"{backbone_transfer.MODE_TITLES[default[1]]}\", with {backbone_transfer.DEFAULT_LABELS[0]} labelled "
           f"photos per class, where what the backbone learnt helps most. So few photos train quickly on a "
           f"classroom CPU; more labels, and fine-tuning, take much longer. Add recipes and label counts to draw "
           f"the whole learning curve.")
head = st.radio("Head", ["linear", "report000", "report003"], horizontal=True, key="bb_head",
                format_func={"linear": "one softmax layer", "report000": "report 000: Flatten, Dense 128, Dropout",
                             "report003": "report 003: Dense 1024-1024-512"}.get)
st.caption("Frozen: the backbone's features are computed once and kept on disk, then only the head learns "
           "(seconds). Fine-tuned: that head, then the backbone's top layers too at a 10x smaller learning "
           "rate, batch norm kept as it was. From scratch: the same network from random weights. Heads stop "
           "early, and halve their learning rate, when the training loss stops falling.")
configs = []
try:
    if target == tiny_imagenet.NAME and not tiny_here:
        raise LookupError  # said above, where the photos are picked: no run to build
    configs = [backbone_transfer.BackboneConfig(backbone=backbone, target=target, classes=tiny_classes, mode=m,
                                             labels_per_class=n, epochs=int(epochs),
                                             weights=weights, input_size=size, head=head, unfreeze=int(unfreeze),
                                             drop_last=drop_last)
               for m in modes for n in labels]
except LookupError:
    pass
except ValueError as e:
    st.error(f"Cannot train this: {e}.", icon=":material/error:")
if st.button(f"Train {len(configs)} run(s)", type="primary", icon=":material/rocket_launch:", disabled=not configs):
    launch(configs, "transfer", varied=[("mode", "labels_per_class")] * len(configs))
require_store()
runs_panel("transfer")

st.subheader("4. What the labels buy")
done = [r for r in runs.search(lab="transfer", status=["FINISHED"], dataset=target)
        if r.recipe == "backbone" and (target != tiny_imagenet.NAME or r.params.get("classes") == str(tiny_classes))]
n_classes = len(tiny_classes) if tiny_classes else len(datasets.get_dataset(target).classes)
latest: dict[tuple, runs.RunInfo] = {}
for run in done:  # newest first
    key = (run.params.get("backbone"), run.params.get("weights") if run.params.get("backbone") in
           backbones.BACKBONES else "", run.params.get("mode"), int(run.params.get("labels_per_class", 0)))
    latest.setdefault(key, run)
if not latest:
    st.caption("No finished runs yet: the table and the learning curve fill in as runs finish.")
    st.stop()
rows = [{"backbone": f"{backbone_title(b)} ({w})" if w else backbone_title(b),
         "recipe": backbone_transfer.MODE_TITLES[m], "labels/class": n,
         "test accuracy": r.metrics.get("test_accuracy"), "trainable": r.metrics.get("trainable_params"),
         # From scratch nothing is frozen: its non-trainable weights are the batch norms' running averages.
         "frozen": None if m == "scratch" else r.metrics.get("non_trainable_params"),
         "seconds": r.metrics.get("train_seconds"),
         "run": r.number} for (b, w, m, n), r in sorted(latest.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][3]))]
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
             column_config={"test accuracy": st.column_config.ProgressColumn(format="percent", min_value=0,
                                                                             max_value=1)})
fig = go.Figure()
for line in sorted({(b, w, m) for b, w, m, _ in latest}):
    points = sorted((n, r.metrics.get("test_accuracy", 0.0)) for (b, w, m, n), r in latest.items()
                    if (b, w, m) == line)
    fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers",
                             name=f"{backbone_title(line[0])}{f' ({line[1]})' if line[1] else ''}: "
                                  f"{backbone_transfer.MODE_TITLES[line[2]]}"))
fig.update_layout(height=380, margin=dict(l=0, r=0, t=10, b=0),
                  xaxis=dict(title="labelled photos per class", type="log",
                             tickvals=list(backbone_transfer.LABELS_PER_CLASS)),
                  yaxis=dict(title=f"test accuracy ({n_classes} classes)",
                             tickformat=".0%", range=[0, 1]))
st.plotly_chart(fig, key="bb_curve", config={"displayModeBar": False})
st.caption(f"Chance is {1 / n_classes:.0%}. Where the frozen or fine-tuned line sits "
           "above 'from scratch', the backbone's "
           "features carried over; the gap usually closes as labels grow.")
