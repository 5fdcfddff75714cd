"""Explain page: why a network read your drawing as it did: where it looked, what it tolerates, how to fool
it, and which training digits it thinks of."""

import numpy as np
import streamlit as st
from PIL import Image

from app_pages.ui import state
from app_pages.ui.charts import panels, to_png
from app_pages.ui.inputs import drawing_canvas, pen_width, upload_input
from app_pages.ui.nets import NO_MODELS, lab_models, model, predictor, title
from core.base import colormap
from core.data import datasets
from core.explain import adversarial, invariance, neighbours, saliency
from core.explain import stroke_importance as strokes_effect
from core.images import preprocess
from core.nets import heads, registry

POLL_S = 3  # how often section 4 looks whether the full index is ready
IG_STEPS = 12  # a picture, not a proof: correlates 0.94-0.97 (median) with 64 steps; tests use more

st.title("Why did it say that?")
st.write("A network's answer is not magic: it looked at some pixels more than others, it tolerates some changes "
         "and not others, and it can be fooled. Draw a digit and ask.")


@st.cache_resource(max_entries=16)
def _cam_model(name: str, version: int):
    return saliency.grad_cam_model(model(name))


@st.cache_resource(show_spinner=False, max_entries=8)
def _indexer(name: str, version: int) -> neighbours.Indexer:
    return neighbours.Indexer(name, model(name))


@st.cache_resource(max_entries=16)
def _embedder(name: str, version: int):
    return heads.compiled_embedder(model(name))


@st.cache_resource(show_spinner="Loading MNIST...")
def mnist_train() -> np.ndarray:
    (x_train, _), _ = datasets.load_mnist(download=False)
    return x_train


def heat_picture(values: np.ndarray, base: np.ndarray, width: int, diverging: bool) -> np.ndarray:
    """A map over a picture: the picture in grey, the map in colour on top (red: for, blue: against)."""
    zmax = float(np.abs(values).max()) or 1.0
    colour = colormap.diverging(values if diverging else np.clip(values, 0, None), zmax)
    grey = np.repeat(np.clip(base, 0, 1)[..., None] * 255, 3, axis=-1)
    strength = np.clip(np.abs(values) / zmax, 0, 1)[..., None]
    mixed = (grey * (1 - 0.75 * strength) + colour.astype(np.float32) * 0.75 * strength).astype(np.uint8)
    return colormap.enlarge(mixed, width)


names = [n for n in neighbours.AHEAD if registry.version(n)] + lab_models("mnist")
if not names:
    st.error(NO_MODELS)
    st.stop()
name = st.selectbox("Network", names, format_func=title, key="explain_model")


def where_it_looked(name: str, pre: preprocess.Preprocessed, gray: np.ndarray | None, probs: np.ndarray) -> None:
    st.subheader("1. Where it looked")
    answer = int(probs.argmax())
    order = [int(i) for i in np.argsort(probs)[::-1]]
    other = st.selectbox("Why this answer and not...", order[1:], key="explain_other",
                         format_func=lambda d: f"{d} ({probs[d]:.1%})")
    net = model(name)
    maps = dict(zip((answer, other), saliency.integrated_gradients(net, pre.image, (answer, other), steps=IG_STEPS)))
    pictures = [(heat_picture(ig, pre.image, 168, diverging=True), f"pixels for (red) and against (blue) {digit}")
                for digit, ig in maps.items()]
    if gray is not None and pre.frame_on_input is not None:
        over = preprocess.frame_to_input(maps[answer], pre, gray.shape)
        pictures.append((heat_picture(over, gray, 168, diverging=True), f"the same for {answer}, over your drawing"))
    cam_model = _cam_model(name, registry.version(name))
    if cam_model is not None:
        cam = saliency.grad_cam(net, cam_model, pre.image, answer)
        pictures.append((heat_picture(cam, pre.image, 168, diverging=False), f"Grad-CAM: the regions behind {answer}"))
    # Side by side in one picture: each picture is a request the browser makes after every stroke.
    gap = np.full((168, 8, 3), 255, np.uint8)
    strip = np.concatenate([part for picture, _ in pictures for part in (_square(picture, 168), gap)][:-1], axis=1)
    st.image(strip, width="content", caption=" · ".join(caption for _, caption in pictures))
    st.caption(f"Integrated gradients: how much each pixel pushed the probability up (red) or down (blue), "
               f"summed along the way from a blank picture to yours ({IG_STEPS} steps). Grad-CAM (conv networks "
               f"only): the regions where the last convolution layer found what matters for the answer.")


COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
MEANT, MEANT_FOLLOWS = "explain_meant", "explain_meant_follows"  # the box, and the reading it last followed


def what_it_tolerates(name: str, pre: preprocess.Preprocessed, answer: int) -> None:
    st.subheader("2. What it tolerates")
    # The box follows the reading until the learner picks another digit: a widget's key keeps its first value,
    # so an index would leave it on the first stroke's reading (a two-stroke 4 read as 2, then as 4).
    if st.session_state.get(MEANT) in (None, st.session_state.get(MEANT_FOLLOWS)):
        st.session_state[MEANT] = answer
    st.session_state[MEANT_FOLLOWS] = answer
    meant = st.selectbox("The digit you meant", list(range(10)), key=MEANT)
    draw_models = [n for n in registry.DRAW_MODELS if registry.version(n)]
    draw_models += [name] if name not in draw_models else []  # the network chosen above, beside the Draw page's
    # Every changed digit of every curve in one batch per network: 52 pictures, one call each.
    changed = {kind: invariance.batch(pre.image, kind) for kind in invariance.TRANSFORMS}
    stacked = np.concatenate(list(changed.values()))
    ends = np.cumsum([len(b) for b in changed.values()])
    probs = {n: np.split(predictor(n).predict_batch(stacked)[:, meant], ends[:-1]) for n in draw_models}
    cols = st.columns(len(invariance.TRANSFORMS))
    moved, groups, titles, shapes = {}, [], [], []
    for i, (col, (kind, t)) in enumerate(zip(cols, invariance.TRANSFORMS.items())):
        lo, hi = min(t.values), max(t.values)
        step = (t.values[1] - t.values[0]) if len(t.values) > 1 else 1
        value = col.slider(kind.capitalize(), float(lo), float(hi), float(t.neutral), float(step),
                           key=f"explain_{kind}", help=t.unit)
        groups.append([dict(type="scatter", x=list(t.values), y=probs[n][i].tolist(), mode="lines", name=title(n),
                            showlegend=i == 0, line=dict(color=COLOURS[j % len(COLOURS)]), legendgroup=n)
                       for j, n in enumerate(draw_models)])
        titles.append(t.title)
        shapes.append(dict(type="line", x0=value, x1=value, y0=0, y1=1, xref=f"x{i + 1 if i else ''}", yref="paper",
                           line=dict(dash="dot", color="grey")))
        if value != t.neutral:
            moved[kind] = value
    # One figure of four panels, not four charts: the browser draws one plotly chart per stroke instead of four.
    percent = {f"yaxis{i + 1 if i else ''}": dict(range=[0, 1], tickformat=".0%") for i in range(len(groups))}
    fig = panels(groups, titles, 220, x_title="", shared_y=True, shapes=shapes, margin=dict(l=0, r=0, t=24, b=0),
                 **percent)
    st.plotly_chart(fig, key="explain_curves", config={"displayModeBar": False})
    image = pre.image
    for kind, value in moved.items():
        image = invariance.apply(image, kind, value)
    readings = " · ".join(f"{title(n)}: {int(p.argmax())} ({p[meant]:.0%} for {meant})"
                          for n in draw_models for p in [predictor(n).predict(image)[0]])
    left, right = st.columns([1, 5])
    left.image(to_png(image, 112), caption="your digit, changed" if moved else "your digit", width=112)
    right.caption(f"Each curve: a network's probability for {meant} as the drawing is changed. "
                  f"With the sliders' changes: {readings}.")


def _square(picture: np.ndarray, size: int) -> np.ndarray:
    """An RGB picture resized to ``size`` x ``size`` (the drawing's 280 pixels beside the 28x28 maps' 168)."""
    if picture.shape[:2] == (size, size):
        return picture
    return np.asarray(Image.fromarray(picture).resize((size, size), Image.Resampling.BILINEAR))


def _rgb(image: np.ndarray) -> np.ndarray:
    """A gray picture in [0, 1] as uint8 RGB, to sit beside a coloured one in a single picture."""
    return np.repeat((np.clip(image, 0, 1) * 255).astype(np.uint8)[..., None], 3, axis=2)


def fooling_it(name: str, pre: preprocess.Preprocessed, answer: int) -> None:
    st.subheader("3. Fooling it")
    cols = st.columns([1, 2])
    method = cols[0].radio("Attack", ["FGSM", "PGD"], horizontal=True, key="explain_attack",
                           help="FGSM: one step along the gradient's sign. PGD: ten smaller steps, stronger.")
    eps = cols[1].slider("Largest change of a pixel (epsilon)", 0.0, adversarial.EPSILON_MAX, 0.1, 0.01,
                         key="explain_eps")
    net = model(name)
    adv = (adversarial.fgsm if method == "FGSM" else adversarial.pgd)(net, pre.image, answer, eps)
    probs, _ = predictor(name).predict(adv)
    new = int(probs.argmax())
    pics = st.columns([3, 1])
    gap = np.full((28, 2, 3), 90, np.uint8)
    # Yours, the change, the result: one picture (one request for the browser after each stroke), not three.
    strip = np.concatenate([_rgb(pre.image), gap, colormap.diverging(adv - pre.image, max(eps, 1e-6)), gap,
                            _rgb(adv)], axis=1)
    pics[0].image(colormap.enlarge(strip, 3 * 112), width=3 * 112,
                  caption=f"yours: {answer} · the change (at most {eps:.2f} a pixel) · "
                          f"read as {new} ({probs[new]:.0%})")
    others = [n for n in registry.DRAW_MODELS if n != name and registry.version(n)]
    transfer = [f"{title(n)} reads {int(p.argmax())}" for n in others for p in [predictor(n).predict(adv)[0]]]
    pics[1].markdown(adversarial.verdict(answer, new, eps, method)
                     + (" The same picture: " + "; ".join(transfer) + "." if transfer else ""))
    drawing = st.session_state.get(state.DRAWING)
    if st.session_state.get("explain_source") == "Your drawing" and drawing:
        effects = strokes_effect.leave_one_out(drawing, predictor(name), answer)
        if len(effects) > 1:
            st.markdown("**Which stroke mattered most?** Each picture is your drawing without one stroke, the "
                        "stroke it could least do without first:")
            for col, e in zip(st.columns(min(len(effects), 6)), strokes_effect.by_importance(effects)[:6]):
                col.image(e.image, width=96, caption=(f"without stroke {e.index + 1}: {answer} at {e.probability:.0%}"
                                                      + (f", reads {e.reading}" if e.reading is not None else "")))


def what_it_remembers(name: str, pre: preprocess.Preprocessed) -> None:
    st.subheader("4. What it remembers")
    indexer = _indexer(name, registry.version(name))
    if indexer.index is None:
        with st.spinner(f"Reading the first training digits with this network (once, about "
                        f"{neighbours.SAMPLE_SECONDS:.0f} s; all 60,000 follow in the background)..."):
            indexer.start()
    # Until all the training digits are indexed, this section alone redraws itself every few seconds, so the full
    # index shows as soon as it is ready (then the page redraws once more, to stop the polling).
    polling = not indexer.complete and not indexer.error
    st.fragment(run_every=POLL_S if polling else None)(nearest_digits)(name, pre, indexer, polling)


def nearest_digits(name: str, pre: preprocess.Preprocessed, indexer: neighbours.Indexer, polling: bool) -> None:
    if polling and (indexer.complete or indexer.error):
        st.rerun(scope="app")
    index = indexer.index
    feature = _embedder(name, registry.version(name))(pre.image)
    idx, _ = index.nearest(feature, k=8)
    x_train = mnist_train()
    gap = np.full((28, 3), 0.35, np.float32)  # a grey line between digits
    strip = np.concatenate([part for i in idx for part in (preprocess.scale_pixels(x_train[i]), gap)][:-1], axis=1)
    # One picture, not eight: each picture is a request the browser makes after every stroke.
    st.image(to_png(strip, 8 * 84), width="content",
             caption="labelled, nearest first: " + ", ".join(str(int(index.labels[i])) for i in idx))
    st.caption("The 8 training digits closest to yours in what the network has made of them just before it "
               "answers: if they are 9s, your 4 looks like a 9 to it.")
    if indexer.complete:
        return
    searched = f"these are the nearest among the first {len(index.labels):,} of the {len(x_train):,} training digits"
    if indexer.error:
        st.warning(f"The index of all the training digits could not be built ({indexer.error}): {searched}.")
    else:
        left = indexer.seconds_left()
        st.caption(f"For now {searched}. The network is reading the others in the background "
                   f"({f'about {left:.0f} s more' if left >= 1 else 'any moment now'}); this section shows "
                   "the nearest of all of them as soon as it is done.")


@st.fragment
def explain_input(name: str) -> None:
    source = st.radio("Input", ["Your drawing", "Upload a picture"], horizontal=True, key="explain_source")
    gray = None
    if source == "Your drawing":
        with st.columns([1, 2])[0]:
            gray = drawing_canvas("explain_canvas", pen_width())
        pre = preprocess.from_canvas(gray) if gray is not None else None
    else:
        pre = upload_input("explain_upload")
    if pre is None or pre.empty:
        st.info("Draw a digit on the canvas (your drawing from the Draw page carries over), or upload one.",
                icon=":material/draw:")
        return
    probs, _ = predictor(name).predict(pre.image)
    answer = int(probs.argmax())
    st.metric(f"{title(name)} reads", answer, f"{probs[answer]:.0%} sure", delta_color="off",
              delta_arrow="off")  # a confidence, not a change: no arrow
    where_it_looked(name, pre, gray, probs)
    what_it_tolerates(name, pre, answer)
    fooling_it(name, pre, answer)
    what_it_remembers(name, pre)


explain_input(name)
