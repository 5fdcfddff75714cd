"""The 'Your own classes' page through AppTest: create, add examples, train, read the scores, reload."""


from app_pages.ui import owner
from bench.harness.shapes import SHAPES, drawn_shapes
from core import own_classes
from tests.pages import open_page


def test_a_student_creates_classes_trains_a_head_and_finds_it_again_after_a_reload(run_store, tmp_path,
                                                                                    monkeypatch):
    monkeypatch.setenv("VP_HOME", str(tmp_path))  # no project yet
    at = open_page("own_classes", {owner.KEY: ALICE})
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

    # A reload: the project, its examples and its head come back from VP_HOME.
    again = open_page("own_classes", {owner.KEY: ALICE})
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
    at = open_page("own_classes", {"own_current": project, owner.KEY: ALICE})
    scores = next(d for d in at.dataframe if "held-out accuracy" in d.value.columns)
    config = json.loads(scores.proto.columns)
    assert config["held-out accuracy"]["type_config"]["format"] == "percent", config
    (points,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if "principal component" in c.proto.spec]
    colours = [t["marker"].get("color") for t in points["data"]]
    assert colours == list(CLASS_COLOURS[:10]) and len(set(colours)) == 10, colours


ALICE, BOB = "a" * 32, "b" * 32  # the tokens two browsers keep (app_pages/ui/owner.py)


def button(at, label):
    return next(b for b in at.button if b.label == label)


def create(at, name, classes="circle, cross", share=False):
    at.text_input[0].input(name)
    at.text_input[1].input(classes)
    if share:
        at.checkbox[0].check()
    button(at, "Create").click().run()
    assert not at.exception, at.exception
    return at


def test_each_browser_sees_its_own_projects_and_a_reload_opens_its_own(run_store, tmp_path, monkeypatch):
    """Before, every visitor saw every project, and a reload opened the first one by name, whoever made it."""
    monkeypatch.setenv("VP_HOME", str(tmp_path))
    bob = create(open_page("own_classes", {owner.KEY: BOB}), "aaa bob")
    alice = create(open_page("own_classes", {owner.KEY: ALICE}), "zzz alice")
    assert alice.selectbox[0].options == ["zzz alice"]
    reloaded = open_page("own_classes", {owner.KEY: ALICE})  # a new session of the same browser
    assert reloaded.selectbox[0].value == "zzz alice" and reloaded.selectbox[0].options == ["zzz alice"]
    bob = open_page("own_classes", {owner.KEY: BOB})
    assert bob.selectbox[0].options == ["aaa bob"]
    create(bob, "zzz alice")  # the name is taken, by a project Bob cannot see
    assert any("taken by a project of another visitor" in e.value for e in bob.error)
    assert own_classes.list_projects() == ["aaa bob", "zzz alice"]  # the command line sees them all


def test_a_project_is_shared_only_when_its_owner_ticks_the_box_and_only_the_owner_deletes_it(run_store, tmp_path,
                                                                                               monkeypatch):
    monkeypatch.setenv("VP_HOME", str(tmp_path))
    alice = create(open_page("own_classes", {owner.KEY: ALICE}), "for the class", share=True)
    bob = open_page("own_classes", {owner.KEY: BOB})
    assert bob.selectbox[0].value == "for the class"
    assert not [b for b in bob.button if b.label.startswith("Delete")]  # not Bob's to delete
    alice = open_page("own_classes", {owner.KEY: ALICE})
    button(alice, "Delete 'for the class' for good").click().run()
    assert not alice.exception, alice.exception
    assert own_classes.list_projects() == []
    assert alice.info[0].value.startswith("Create a project")


def test_a_damaged_project_is_named_and_can_be_rebuilt_or_deleted_on_the_page(run_store, tmp_path, monkeypatch):
    """An empty project.json showed a traceback, and neither Train nor Export."""
    monkeypatch.setenv("VP_HOME", str(tmp_path))
    folder = own_classes.create_project("broken", ["circle", "cross"], ALICE)
    (folder / "project.json").write_text("")
    at = open_page("own_classes", {owner.KEY: ALICE})
    assert not at.exception and "'broken' is damaged" in at.error[0].value
    button(at, "Rebuild it from its examples").click().run()
    assert not at.exception, at.exception
    assert own_classes.class_names("broken") == ["circle", "cross"] and not at.error
    (folder / "project.json").write_text("")
    at.run()
    button(at, "Delete it").click().run()
    assert not at.exception and own_classes.list_projects() == []
