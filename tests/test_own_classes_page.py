"""The 'Your own classes' page through AppTest: create, add examples, train, read the scores, reload."""


from bench.harness.shapes import SHAPES, drawn_shapes
from core import own_classes
from tests.pages import open_page


def test_a_student_creates_classes_trains_a_head_and_finds_it_again_after_a_reload(run_store, tmp_path,
                                                                                    monkeypatch):
    monkeypatch.setenv("VP_HOME", str(tmp_path))  # no project yet
    at = open_page("own_classes")
    assert at.info[0].value.startswith("Create a project")
    at.text_input[0].input("my shapes")
    at.text_input[1].input(", ".join(SHAPES))
    next(b for b in at.button if b.label == "Create").click().run()
    assert not at.exception, at.exception
    assert "Draw at least 2 examples" in " ".join(i.value for i in at.info)
    # Drawing on the canvas needs a browser; the examples go in through the same function its button calls.
    images, labels = drawn_shapes(per_class=10, seed=1)
    project = own_classes.list_projects()[0]
    for image, label in zip(images, labels):
        own_classes.add_example(project, SHAPES[label], image)
    at.run()
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.exception, at.exception
    accuracy = next(m for m in at.metric if m.label == "Held-out accuracy")
    assert int(accuracy.value.rstrip("%")) >= 80
    assert any(c.value.startswith("Trained in") for c in at.caption)
    assert any(i.value == "Draw one of your classes." for i in at.info)  # empty test canvas: a hint

    again = open_page("own_classes")  # a reload: the project, its examples and its head come back from VP_HOME
    assert again.selectbox[0].value == project
    assert any(m.label == "Held-out accuracy" for m in again.metric)
    assert any("10" in str(v) for v in again.dataframe[0].value["examples"].tolist())


def test_ten_classes_get_ten_colours_and_per_class_accuracy_reads_in_percent(run_store, tmp_path, monkeypatch,
                                                                               unipen):
    """Streamlit's own colours come in light and dark pairs of one hue (blue and light blue...), the tenth a
    light grey: ten classes need a palette of their own."""
    import json

    import numpy as np

    from app_pages.ui.charts import CLASS_COLOURS
    from core.images import preprocess, strokes

    monkeypatch.setenv("VP_HOME", str(tmp_path))
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    project = own_classes.create_project("digits", names)
    for digit, name in enumerate(names):
        for rec in [r for r in unipen if r["label"] == digit][:3]:
            gray = strokes.render(strokes.canvas_paths(rec, box=160)).astype(np.float32) / 255.0
            own_classes.add_example(project, name, preprocess.from_canvas(gray).image)
    own_classes.train(project, own_classes.DEFAULT_MODEL)  # the network the page opens on
    at = open_page("own_classes", {"own_current": project})
    scores = next(d for d in at.dataframe if "held-out accuracy" in d.value.columns)
    config = json.loads(scores.proto.columns)
    assert config["held-out accuracy"]["type_config"]["format"] == "percent", config
    (points,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if "principal component" in c.proto.spec]
    colours = [t["marker"].get("color") for t in points["data"]]
    assert colours == list(CLASS_COLOURS[:10]) and len(set(colours)) == 10, colours
