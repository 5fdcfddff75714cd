"""AppTest of the Filters page: every input source with every network."""

import functools
import re

import pytest

from core.data import samples
from core.explain import feature_maps as fm
from core.nets import registry
from tests import canvas_payloads as recorded
from tests.pages import open_page


@pytest.fixture
def filters_page():
    return open_page("filters")


@functools.cache
def shipped(name: str):
    """The shipped network ``name``, loaded once for the module: the tests only read its layers."""
    return registry.load(name)


def image_captions(at) -> list[str]:
    return [c for img in at.get("image") for c in img.captions]


def shows_maps(at) -> bool:
    """The feature maps, the filters beside them and the filtering by hand are all on the page."""
    captions = " | ".join(image_captions(at))
    return all(part in captions for part in ("the filters, enlarged", "the network's feature maps", "by hand"))


def largest_difference(at) -> float:
    text = next(c.value for c in at.caption if "largest difference" in c.value)
    return float(re.search(r"largest difference ([-+.e0-9]+)\)", text).group(1))


def test_empty_canvas_gets_a_message_not_empty_plots(filters_page):
    at = filters_page
    assert at.title[0].value == "Inside the network"
    assert any("Draw a digit" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) == 1  # the filters themselves need no input
    assert not shows_maps(at) and not any("largest difference" in c.value for c in at.caption)


@pytest.mark.parametrize("name", ["net002", "convnet", "resnet"])
def test_mnist_input_shows_filters_maps_and_flow(filters_page, name):
    at = filters_page
    at.selectbox(key="filters_model").set_value(name)
    at.radio(key="filters_source").set_value("MNIST test image")
    at.run()
    at.number_input(key="filters_index").set_value(1)  # a 2
    at.run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 1  # the filter grid, weights on hover
    assert shows_maps(at)
    assert largest_difference(at) < 1e-3  # the network's maps and the filtering by hand agree
    assert [m.value for m in at.metric if m.label == "softmax"] == ["2"]
    n_filters = shipped(name).get_layer(
        next(layer.name for layer in shipped(name).layers if layer.__class__.__name__ == "Conv2D")).filters
    assert any(f"First-layer filters ({n_filters} of" in h.value for h in at.subheader)


# What the caption under a layer's maps must begin its account of the layer with, by the layer's kind.
KIND_WORDS = {"Conv2D": "A convolution: ", "BatchNormalization": "Batch normalisation: ", "Activation": "ReLU: ",
              "MaxPooling2D": "Max pooling: ", "Add": "A residual sum: "}


@pytest.mark.parametrize("name", ["net002", pytest.param("convnet", marks=pytest.mark.slow)])
def test_every_deeper_layer_can_be_chosen_and_is_described_as_what_it_is(filters_page, name):
    """Each layer's caption speaks of that layer (a conv's filters, a ReLU's zeros, a pooling's sizes), with
    sizes taken from the model, not one sentence about pooling under every layer."""
    at = filters_page
    at.selectbox(key="filters_model").set_value(name)
    at.radio(key="filters_source").set_value("MNIST test image")
    at.run()
    box = at.selectbox(key=f"filters_layer_{name}")
    net = shipped(name)
    infos = fm.map_layers(net)
    assert [option.split(" (")[0] for option in box.options] == [i.name for i in infos]
    seen = {}
    for option, info in zip(box.options, infos):
        box.set_value(option)
        at.run()
        assert not at.exception, (option, at.exception)
        caption = next(c.value for c in at.caption if c.value.startswith(f"All {info.output_shape[-1]} maps of"))
        assert KIND_WORDS[info.kind] in caption, (option, caption)
        layer = net.get_layer(info.name)
        h, w = layer.input.shape[1:3]
        if info.kind == "MaxPooling2D":
            assert f"from {h}x{w} to {info.output_shape[0]}x{info.output_shape[1]}" in caption, caption
        elif info.kind == "Activation":
            assert re.search(r"For your digit \d+% of its values are 0\.", caption), caption
        else:
            assert "Pooling" not in caption and "pooling" not in caption, caption
        seen[info.kind] = caption
        box = at.selectbox(key=f"filters_layer_{name}")
    assert set(seen) == {i.kind for i in infos}


@pytest.mark.parametrize("name, between", [("net002", "max pooling keeps the strongest response of each "
                                                      "patch (`pool1`), then ReLU (`relu1`)"),
                                           ("convnet", "batch normalisation shifts and scales each map (`bn1_1`), "
                                                       "then ReLU (`relu1_1`)"),
                                           ("resnet", "batch normalisation shifts and scales each map "
                                                      "(`stem_bn`), then ReLU (`stem_relu`)")])
def test_the_first_layer_says_what_comes_between_it_and_relu(filters_page, name, between):
    """The layers between the first convolution and ReLU, as the model has them (batch normalisation in the
    ConvNet and the ResNet), and the answer's confidence without an arrow (nothing rose)."""
    from streamlit.proto.Metric_pb2 import Metric

    at = filters_page
    at.selectbox(key="filters_model").set_value(name)
    at.radio(key="filters_source").set_value("MNIST test image")
    at.run()
    text = next(c.value for c in at.caption if "largest difference" in c.value)
    assert f"; next, {between} keeps only the red." in text, text
    (softmax,) = [m for m in at.metric if m.label == "softmax"]
    assert softmax.proto.delta.endswith("% sure") and softmax.proto.direction == Metric.MetricDirection.NONE


def test_random_of_a_digit(filters_page):
    at = filters_page
    at.radio(key="filters_source").set_value("MNIST test image")
    at.run()
    at.segmented_control(key="filters_pick").set_value("Random of a digit")
    at.run()
    at.selectbox(key="filters_digit").set_value(6)
    at.run()
    assert not at.exception, at.exception
    assert any("labelled 6" in c.value for c in at.caption)


@pytest.mark.parametrize("name", ["net002", "convnet", "resnet"])
def test_upload_source_and_bad_upload(filters_page, unipen, name):
    at = filters_page
    at.selectbox(key="filters_model").set_value(name)
    at.radio(key="filters_source").set_value("Upload a picture")
    at.run()
    rec = next(r for r in unipen if r["label"] == 3)
    at.file_uploader(key="filters_upload").set_value(("three.png", samples.make_photo(rec, "thin"), "image/png"))
    at.run()
    assert not at.exception, at.exception
    assert shows_maps(at) and largest_difference(at) < 1e-3
    assert [m.value for m in at.metric if m.label == "softmax"] == ["3"]
    at.file_uploader(key="filters_upload").set_value(("bad.png", b"\x89PNG broken", "image/png"))
    at.run()
    assert any("Cannot read bad.png" in e.value for e in at.error)
    assert not shows_maps(at)


def test_dnn_shows_templates_instead_of_filters(filters_page):
    at = filters_page
    at.selectbox(key="filters_model").set_value("dnn")
    at.radio(key="filters_source").set_value("MNIST test image")
    at.run()
    assert not at.exception, at.exception
    assert any("no convolution layers" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) == 1 and not shows_maps(at)  # the templates, not filters


@pytest.mark.parametrize("name", ["net002", "convnet", "resnet"])
def test_a_drawing_from_the_draw_page_carries_over(filters_page, name):
    at = filters_page
    at.selectbox(key="filters_model").set_value(name)
    for key, value in recorded.drawing_state("seven_two_strokes").items():  # a 7 as the canvas sent it in Chromium
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    assert shows_maps(at) and largest_difference(at) < 1e-3
    # the flow strip ends with the network's answer for the drawing: the 7
    assert [m.value for m in at.metric if m.label == "softmax"] == ["7"]


def test_colour_scale_toggle_switches_between_per_map_and_shared(filters_page):
    at = filters_page
    at.radio(key="filters_source").set_value("MNIST test image")
    at.run()
    before = [img.proto.imgs[0].url for img in at.get("image")]
    assert any("Each map has its own colour scale." in c.value for c in at.caption)
    at.toggle(key="filters_shared").set_value(True)
    at.run()
    assert not at.exception, at.exception
    assert any("All maps share one colour scale." in c.value for c in at.caption)
    assert [img.proto.imgs[0].url for img in at.get("image")] != before  # the maps were redrawn
