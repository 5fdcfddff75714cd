"""Filters page: what a ConvNet's first layer looks for, and what it does to your own drawing."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app_pages.ui.charts import to_png
from app_pages.ui.inputs import drawing_canvas, pen_width, upload_input
from app_pages.ui.nets import NO_MODELS, lab_models, model, predictor, title
from core.base import colormap
from core.data import datasets
from core.explain import feature_maps as fm
from core.explain import layer_notes
from core.images import preprocess
from core.nets import registry

st.title("Inside the network")
st.write("A convolution layer slides small filters over the picture; each filter lights up where the picture "
         "matches it. Look at the filters a network learned, and at what each one makes of your digit.")


@st.cache_resource(show_spinner="Loading MNIST test images...")  # a resource: no 8 MB copy per rerun
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    (_, _), (x_test, y_test) = datasets.load_mnist(download=False)
    return x_test, y_test


@st.cache_resource(max_entries=64)
def _sub_model(name: str, version: int, layers: tuple[str, ...]):
    return fm.feature_model(model(name), list(layers))


def sub_model(name: str, layers: tuple[str, ...]):
    """The feature-map sub-model of ``name`` for ``layers``, built once per model file."""
    return _sub_model(name, registry.version(name), layers)


def heatmap(grid: np.ndarray, height: int, diverging: bool = True, hover: str = "value %{z:.3f}",
            zmax: float | None = None) -> go.Figure:
    """One heatmap trace for a whole tiled grid: fast to draw, readable on hover."""
    zmax = zmax if zmax is not None else float(np.nanmax(np.abs(grid))) or 1.0
    trace = go.Heatmap(z=grid, colorscale="RdBu_r" if diverging else "Viridis", zmid=0 if diverging else None,
                       zmin=-zmax if diverging else None, zmax=zmax if diverging else None,
                       hovertemplate=hover + "<extra></extra>", showscale=True, colorbar=dict(thickness=10))
    layout = dict(height=height, margin=dict(l=0, r=0, t=0, b=0), plot_bgcolor="rgba(0,0,0,0)",
                  yaxis=dict(autorange="reversed", visible=False, scaleanchor="x"), xaxis=dict(visible=False))
    return go.Figure(data=[trace], layout=layout)


def choose_input() -> np.ndarray | None:
    """The 28x28 input from the chosen source, or None (with a message) when there is none."""
    source = st.radio("Input", ["Your drawing", "Upload a picture", "MNIST test image"], horizontal=True,
                      key="filters_source")
    if source == "Your drawing":
        with st.columns([1, 2])[0]:
            gray = drawing_canvas("filters_canvas", pen_width())
        pre = preprocess.from_canvas(gray) if gray is not None else None
        if pre is None or pre.empty:
            st.info("Draw a digit on the canvas (your drawing from the Draw page carries over).",
                    icon=":material/draw:")
            return None
        return pre.image
    if source == "Upload a picture":
        pre = upload_input("filters_upload")
        return pre.image if pre is not None else None
    try:
        x_test, y_test = mnist_test()
    except datasets.DataError as e:
        st.error(f"MNIST is not available here: {e}")
        return None
    how = st.segmented_control("Pick", ["By index", "Random of a digit"], default="By index",
                               key="filters_pick") or "By index"
    if how == "By index":
        index = st.number_input("Test image index", 0, len(x_test) - 1, 0, key="filters_index")
    else:
        digit = st.selectbox("Digit", range(10), key="filters_digit")
        if st.button("Another one", key="filters_another") or st.session_state.get("filters_rand_for") != digit:
            st.session_state["filters_rand_for"] = digit
            st.session_state["filters_rand"] = int(np.random.default_rng().choice(np.flatnonzero(y_test == digit)))
        index = st.session_state["filters_rand"]
    st.caption(f"MNIST test image {index}, labelled {y_test[index]}.")
    return preprocess.scale_pixels(x_test[index])


def maps_picture(maps: np.ndarray, cols: int, shared: bool, zmax: float | None = None) -> np.ndarray:
    """(n, h, w) maps tiled and coloured on the diverging scale, as an RGB picture about 900 px wide."""
    grid = fm.tile(maps, cols, normalise=not shared)
    return colormap.enlarge(colormap.diverging(grid, 1.0 if not shared else zmax), 900)


def filter_grid(name: str) -> None:
    """The first layer's filters as a chart: they depend on the network only, so they stay put while you draw."""
    first = fm.first_layer_filters(model(name))
    n, k, _ = first.filters.shape
    cols = min(n, 16)
    st.subheader(f"First-layer filters ({n} of {k}x{k}, layer `{first.name}`)")
    rows = -(-n // cols)
    height = 40 + 700 * rows * (k + 1) // (cols * (k + 1))  # square cells in a chart about 700 px wide
    st.plotly_chart(heatmap(fm.tile(first.filters, cols), height=height, hover="weight %{z:.3f}"),
                    key="filters_grid", config={"displayModeBar": False})
    st.caption(f"Each square is one {k}x{k} filter (hover to read its weights): red weights add the pixel under "
               "them, blue ones subtract it. Filters with a red stripe beside a blue one are edge detectors, "
               "each for its own direction; a filter that is red in the middle and blue around finds dots and "
               "thin strokes.")


def first_layer(name: str, image: np.ndarray, shared: bool) -> None:
    first = fm.first_layer_filters(model(name))
    n, k, _ = first.filters.shape
    cols = min(n, 16)
    (output,) = fm.feature_maps(sub_model(name, (first.name,)), image)
    maps, by_hand, match = fm.first_layer_maps(first, output, image)
    h, w = maps.shape[1:]
    zmax = float(np.abs(maps).max()) or 1.0
    st.subheader("What each filter does to the input")
    left, right = st.columns([1, 5])
    left.image(to_png(image, 140), caption="the 28x28 input")
    with right:
        st.image(maps_picture(fm.upsample_nearest(first.filters, h, w), cols, shared=False),
                 caption="the filters, enlarged to the size of their maps", width="stretch")
        st.image(maps_picture(maps, cols, shared, zmax), width="stretch",
                 caption=f"the network's feature maps: layer `{first.name}`'s real output"
                         + ("" if first.relu else ", before ReLU"))
        st.image(maps_picture(by_hand, cols, shared, zmax), width="stretch",
                 caption="the same filters applied by hand with filter2d: slide, multiply, add the bias")
    st.caption(f"The last two rows match (largest difference {match:.1e}): a convolution layer is just this "
               f"filtering, done for every filter at once. Each map is {h}x{w}: "
               + (f"a {k}x{k} filter fits {28 - k + 1} times across 28 pixels. " if first.padding == "valid" else
                  "this layer pads the input's border with zeros so the map keeps the input's size. ")
               + "Red is where the filter matches the stroke, blue where it matches the opposite"
               + after_first_conv(name, first) + " "
               + ("All maps share one colour scale." if shared else "Each map has its own colour scale."))


def after_first_conv(name: str, first: fm.FirstLayer) -> str:
    """What the model does to the first layer's maps before its first ReLU, from its layers."""
    if first.relu:
        return "; the layer's own ReLU has already set the blue to 0."
    steps = layer_notes.on_to_relu(model(name), first.name)
    return ("; next, " + ", then ".join(steps) + ".") if steps else "."


def deeper_layers(name: str, image: np.ndarray, shared: bool) -> None:
    net = model(name)
    infos = fm.map_layers(net)
    st.subheader("Deeper layers")
    labels = {f"{i.name} ({i.kind}, {'x'.join(map(str, i.output_shape))}, {i.params:,} params)": i for i in infos}
    chosen = labels[st.selectbox("Layer", list(labels), key=f"filters_layer_{name}")]
    (output,) = fm.feature_maps(sub_model(name, (chosen.name,)), image)
    maps = np.transpose(output, (2, 0, 1))
    st.image(maps_picture(maps, min(len(maps), 16), shared), width="stretch")
    st.caption(f"All {len(maps)} maps of `{chosen.name}`, output {chosen.output_shape}, {chosen.params:,} "
               f"parameters. {layer_notes.note(net.get_layer(chosen.name), output)}")
    strip = fm.flow_layers(net)
    outs = fm.feature_maps(sub_model(name, tuple(i.name for i in strip)), image)
    probs, _ = predictor(name).predict(image)
    st.markdown("**From input to answer** (each layer's strongest map)")
    cells = st.columns(len(strip) + 2)
    cells[0].image(to_png(image, 80), caption="input")
    for cell, info, out in zip(cells[1:], strip, outs):
        cell.image(to_png(fm.strongest_map(out), 80),
                   caption=f"{info.name} {'x'.join(map(str, info.output_shape))}")
    cells[-1].metric("softmax", int(probs.argmax()), f"{probs.max():.0%} sure", delta_color="off",
                     delta_arrow="off")  # a confidence, not a change: no arrow


def dnn_view(name: str) -> None:
    templates = fm.dense_templates(model(name))
    st.info(f"The {registry.get(name).title} has no convolution layers, so it has no filters to show. "
            "Instead, here is what its first hidden units look for.")
    if templates is None:
        return
    st.plotly_chart(heatmap(fm.tile(templates[:48], 12), 420, hover="weight %{z:.3f}"), key="filters_dnn",
                    config={"displayModeBar": False})
    st.caption("Each square is one hidden unit's 784 input weights laid out as a 28x28 picture: red pixels "
               "push the unit on, blue ones push it off. A dense layer sees the whole picture at once, so a "
               "digit drawn a little to the side meets different weights. Convolution filters slide instead.")


@st.fragment
def on_your_input(name: str) -> None:
    """Everything that changes with the input: a stroke re-runs only this part of the page."""
    image = choose_input()
    if image is None:
        return
    shared = st.toggle("One colour scale for all maps", value=False, key="filters_shared",
                       help="Off: each map uses its own scale, so faint maps stay visible.")
    first_layer(name, image, shared)
    deeper_layers(name, image, shared)


names = [n for n in registry.FILTER_MODELS if n in registry.available()] + lab_models("mnist")
if not names:
    st.error(NO_MODELS)
    st.stop()
name = st.selectbox("Network", names, format_func=title, key="filters_model",
                    help="Networks trained in the Training lab appear here when their runs finish.")
if fm.conv_layers(model(name)):
    filter_grid(name)
    on_your_input(name)
else:
    dnn_view(name)
