"""The Explain page through AppTest: every section, with every network, on a real drawn digit."""

import json
import re

import numpy as np
import pytest
import streamlit as st
from streamlit.proto.Metric_pb2 import Metric
from streamlit.testing.v1 import AppTest

from core.base import settings
from core.data import datasets
from core.explain import neighbours
from tests import canvas_payloads as recorded
from tests.pages import drawing_state, open_page

FEW_DIGITS = 2_000  # training digits in the page's nearest-neighbour index here


@pytest.fixture(scope="module", autouse=True)
def few_training_digits(tmp_path_factory):
    """"What it remembers" searches MNIST's first 2,000 training digits here, not all 60,000: the page's indexer
    reads them (``neighbours._training_digits``), so a first visit computes 2,000 digits' features in the
    background, not 60,000 for every network (on a fresh clone that was 130 CPU-s of this file's work, a ResNet's
    features alone 50 s). These tests check what the page shows; the index itself is checked on all 60,000 in
    test_explain.py. Its features are kept apart from the real ones, and the page's caches cleared after."""
    (x_train, y_train), _ = datasets.load_mnist(download=False)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(neighbours, "_training_digits", lambda: (x_train[:FEW_DIGITS], y_train[:FEW_DIGITS]))
        m.setenv("VP_HOME", str(tmp_path_factory.mktemp("few_digits_home")))  # its cache of features
        st.cache_resource.clear()  # no index of all the digits kept by an earlier test
        yield
    st.cache_resource.clear()  # no later page gets the small index


def open_explain(gray=None, sent_strokes=None) -> AppTest:
    return open_page("explain", drawing_state(gray, sent_strokes) if gray is not None else None)


def drawn(label: str) -> tuple[np.ndarray, list]:
    """A real pen-drawn digit as the canvas gave it in Chromium: its pixels and strokes (tests/canvas_payloads.py)."""
    return recorded.gray(label), recorded.drawn_strokes(label)


def test_an_empty_canvas_shows_the_hint_not_an_error():
    at = open_explain()
    assert at.title[0].value == "Why did it say that?"
    assert any("Draw a digit" in i.value for i in at.info) and not at.error


# The ConvNet and the ResNet are slow to explain on a CPU: for CI; the fast loop keeps the DNN and net002.
@pytest.mark.parametrize("name", ["dnn", pytest.param("convnet", marks=pytest.mark.slow),
                                  pytest.param("resnet", marks=pytest.mark.slow), "net002"])
@pytest.mark.slow
def test_every_section_with_every_network(name):
    gray, sent_strokes = drawn("four_two_strokes")
    at = open_explain(gray, sent_strokes)
    at.selectbox(key="explain_model").set_value(name)
    at.run()
    assert not at.exception, at.exception
    assert [m.value for m in at.metric] == ["4"], name
    headers = [h.value for h in at.subheader]
    assert headers == ["1. Where it looked", "2. What it tolerates", "3. Fooling it", "4. What it remembers"]
    captions = " ".join(c.value for c in at.caption)
    assert "Integrated gradients" in captions and "training digits closest" in captions
    (curves,) = at.get("plotly_chart")  # the invariance curves: one figure, a panel per transform
    figure = json.loads(curves.proto.spec)
    assert sorted(k for k in figure["layout"] if k.startswith("xaxis")) == ["xaxis", "xaxis2", "xaxis3", "xaxis4"]
    assert len(figure["data"]) == 4 * (3 + (name == "net002"))  # a curve per transform and Draw network, and the
    # network chosen when it is not one of them
    pictures = " ".join(str(i.proto) for i in at.get("image"))
    assert "over your drawing" in pictures and "against (blue)" in pictures
    assert ("Grad-CAM" in pictures) == (name != "dnn")  # the DNN has no convolution: no Grad-CAM picture
    assert "Which stroke mattered most" in " ".join(m.value for m in at.markdown)


@pytest.mark.slow
def test_the_sliders_change_the_digit_and_the_attack_can_fool():
    gray, sent_strokes = drawn("seven_two_strokes")
    at = open_explain(gray, sent_strokes)
    before = next(c.value for c in at.caption if c.value.startswith("Each curve"))
    at.slider(key="explain_rotate").set_value(45.0)
    at.slider(key="explain_shift").set_value(8.0)
    at.run()
    after = next(c.value for c in at.caption if c.value.startswith("Each curve"))
    assert before != after  # the readings under the changed digit
    at.radio(key="explain_attack").set_value("PGD")
    at.slider(key="explain_eps").set_value(0.3)
    at.run()
    assert not at.exception, at.exception
    assert any(m.value.startswith("**Fooled.**") for m in at.markdown)


@pytest.mark.slow
def test_an_attack_that_cannot_fool_at_the_largest_epsilon_says_so_not_raise_it():
    """A drawn 3 the DNN still reads as 3 after FGSM's largest change: the page does not advise raising an epsilon
    that is already at the slider's end, it names the stronger attack."""
    from core.explain import adversarial

    at = open_explain(*drawn("three_one_stroke"))
    at.selectbox(key="explain_model").set_value("dnn").run()
    at.slider(key="explain_eps").set_value(adversarial.EPSILON_MAX).run()
    assert not at.exception, at.exception
    assert at.slider(key="explain_eps").max == adversarial.EPSILON_MAX
    (said,) = [m.value for m in at.markdown if m.value.startswith(("**Fooled", "**Not fooled"))]
    assert said.startswith("**Not fooled,** even at the largest change (0.30 a pixel): try PGD"), said
    assert "raise epsilon" not in said
    at.slider(key="explain_eps").set_value(0.1).run()
    assert any(m.value.startswith("**Not fooled yet:** raise epsilon (up to 0.30)") for m in at.markdown) \
        or any(m.value.startswith("**Fooled.**") for m in at.markdown)


def send(at: AppTest, label: str) -> AppTest:
    """The canvas sends a recorded payload (tests/canvas_payloads.py): the state its component holds after a
    stroke in Chromium, which the page reads as the browser's."""
    at.session_state["explain_canvas"] = {"drawing": recorded.sent(label)}
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_the_digit_you_meant_follows_a_drawing_made_in_two_strokes():
    """A 4 drawn as an L, then a bar: the first stroke alone reads otherwise; once the bar is drawn, the
    tolerance section is about 4, and a digit the learner picks stays picked while they draw on."""
    at = send(open_explain(), "four_first_stroke")
    first = at.metric[0].value
    assert first != "4" and at.selectbox(key="explain_meant").value == int(first)
    send(at, "four_two_strokes")
    assert at.metric[0].value == "4"
    assert at.metric[0].proto.direction == Metric.MetricDirection.NONE  # "100% sure": nothing rose, no arrow
    assert at.selectbox(key="explain_meant").value == 4
    assert next(c.value for c in at.caption if c.value.startswith("Each curve")).startswith(
        "Each curve: a network's probability for 4 ")
    at.selectbox(key="explain_meant").set_value(9).run()
    send(at, "four_undo")  # back to the L alone: the learner's 9 stays
    assert at.metric[0].value == first and at.selectbox(key="explain_meant").value == 9


def stroke_captions(at) -> list[str]:
    """The captions under the pictures of 'Which stroke mattered most?':
    'without stroke <n>: <answer> at <p>%, reads <digit>'."""
    return [c for img in at.get("image") for c in img.captions
            if re.fullmatch(r"without stroke \d+: \d at \d+%(, reads \d)?", c)]


@pytest.mark.parametrize("label, pictures",
                         [("four_two_strokes", 2), ("seven_two_strokes", 2), ("three_one_stroke", 0)])
def test_which_stroke_mattered_for_a_drawing_the_canvas_sent(label, pictures):
    """The drawing as the canvas sent it: one picture per stroke, without it; nothing for a one-stroke digit
    (leaving its stroke out leaves nothing)."""
    at = open_explain(*drawn(label))
    answer = at.metric[0].value
    shown = "Which stroke mattered most" in " ".join(m.value for m in at.markdown)
    assert shown == (pictures > 0), label
    captions = stroke_captions(at)
    assert len(captions) == pictures and all(f": {answer} at " in c for c in captions), captions
    shares = [int(re.search(r" at (\d+)%", c).group(1)) for c in captions]
    assert shares == sorted(shares), captions  # the stroke the answer needs most comes first


def test_the_tolerance_curves_include_the_chosen_network_and_every_axis_reads_in_percent():
    from core.nets import registry

    gray, sent_strokes = drawn("four_two_strokes")
    at = open_explain(gray, sent_strokes)
    at.selectbox(key="explain_model").set_value("net002").run()  # not one of the Draw page's three
    assert not at.exception, at.exception
    (curves,) = at.get("plotly_chart")
    figure = json.loads(curves.proto.spec)
    names = [t["name"] for t in figure["data"]]
    assert registry.get("net002").title in names and len(figure["data"]) == 4 * 4
    assert len({t["line"]["color"] for t in figure["data"] if t["legendgroup"] == "net002"}) == 1
    assert len({t["line"]["color"] for t in figure["data"]}) == 4  # a colour per network
    axes = {k: v for k, v in figure["layout"].items() if k.startswith("yaxis")}
    assert len(axes) == 4 and all(a.get("tickformat") == ".0%" for a in axes.values()), axes
    readings = next(c.value for c in at.caption if c.value.startswith("Each curve"))
    assert f"{registry.get('net002').title}:" in readings


@pytest.mark.slow
def test_a_first_visit_searches_a_sample_at_once_then_all_the_training_digits(monkeypatch, tmp_path):
    """With no features on disk (a fresh server), section 4 answers from the first training digits within
    seconds and says how many; the full index is built in the background, and the next stroke searches all of them
    (MNIST's first 8,000 training digits stand for the 60,000 here)."""
    import threading

    import streamlit as st

    from core.explain import neighbours

    # The sample (at most SAMPLE digits), then the rest in the background: a few batches, not 54,000 digits, held
    # back until the page has shown the sample's answer (54,000 digits took longer than the page; these would not).
    (x, y), _ = datasets.load_mnist(download=False)  # more than the module's few: a sample and two batches
    many = neighbours.SAMPLE + 2 * neighbours.BATCH
    monkeypatch.setattr(neighbours, "_training_digits", lambda: (x[:many], y[:many]))
    shown, full_features = threading.Event(), neighbours._full_features
    monkeypatch.setattr(neighbours, "_full_features", lambda *a, **k: shown.wait(600) and full_features(*a, **k))
    monkeypatch.setenv("VP_HOME", str(tmp_path))  # no training digits' features computed yet
    st.cache_resource.clear()  # nor an index kept by an earlier test
    at = open_explain(*drawn("four_two_strokes"))
    note = [c.value for c in at.caption if c.value.startswith("For now these are the nearest among the first")]
    assert len(note) == 1, note
    searched = int(re.search(r"the first ([\d,]+) of the 60,000 training digits", note[0]).group(1).replace(",", ""))
    assert neighbours.SAMPLE_BATCH <= searched <= neighbours.SAMPLE, note
    assert "in the background" in note[0]
    labels = next(c for i in at.get("image") for c in i.captions if c.startswith("labelled, nearest first"))
    assert len(labels.split(": ")[1].split(", ")) == 8
    (build,) = [t for t in threading.enumerate() if t.name == "index-dnn"]
    shown.set()
    build.join(timeout=600)
    send(at, "four_two_strokes")  # the next stroke
    assert not [c.value for c in at.caption if c.value.startswith("For now")]
    assert any("training digits closest" in c.value for c in at.caption)
    assert len(list((tmp_path / "cache" / "embeddings").glob("dnn-*.npz"))) == 1  # kept for the next start


@pytest.mark.slow
def test_the_server_builds_every_networks_index_ahead_so_a_first_visit_searches_all_of_them(monkeypatch, tmp_path):
    """A server's start computes the nearest-digit index of every network the page offers, on a side thread: the
    first visit to section 4 then searches all the training digits at once, without a sample or a build of its
    own (on MNIST's first 2,000 training digits here, for speed)."""
    import threading

    from app_pages.ui import nets
    from core.lab import evaluation
    from core.nets import registry

    x, y = neighbours._training_digits()
    monkeypatch.setattr(neighbours, "_training_digits", lambda: (x[:FEW_DIGITS], y[:FEW_DIGITS]))
    monkeypatch.setenv("VP_HOME", str(tmp_path))  # nothing computed yet
    monkeypatch.setenv(settings.VP_INDEX_AHEAD.name, "1")  # the tests' own default is off (tests/conftest.py)
    monkeypatch.setattr(nets, "_ahead", None)  # a server process that has not started it yet
    # The same thread first times every shipped network for Compare (test_evaluation checks that timing): asked
    # for here, not run, as the thread runs at the lowest priority and on a busy machine waited minutes for it.
    timed = []

    def time_ahead() -> dict:
        timed.append(sorted((tmp_path / "cache" / "embeddings").glob("*.npz")))
        return {}

    monkeypatch.setattr(evaluation, "time_ahead", time_ahead)
    st.cache_resource.clear()
    open_explain()  # the server's first page, before any drawing
    nets.build_indexes_ahead().join(timeout=600)
    assert timed == [[]]  # once, before any index: Compare's speed column first
    # As a set: an earlier test's background build in this process may add its own copy (its VP_HOME was another).
    kept = sorted({p.name.split("-")[0] for p in (tmp_path / "cache" / "embeddings").glob("*.npz")})
    assert kept == sorted(n for n in neighbours.AHEAD if registry.version(n)), kept
    for name in ("dnn", "resnet"):
        before = set(threading.enumerate())
        at = open_explain(*drawn("four_two_strokes"))
        at.selectbox(key="explain_model").set_value(name).run()
        assert not at.exception, at.exception
        assert not [c.value for c in at.caption if c.value.startswith("For now")], name  # not a sample
        assert any("training digits closest" in c.value for c in at.caption), name
        assert not [t for t in set(threading.enumerate()) - before if t.name.startswith("index-")], name  # nor a
        # build of its own
