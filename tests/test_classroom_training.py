"""Train on our hands (activity 3): the class set split by student, the run launched for the teacher only, and a
real fine-tuning run scored on held-out students (core.classroom.dataset, training; core.training.class_finetune)."""

from __future__ import annotations

import numpy as np
import pytest

from core.classroom import captions, dataset, stats, store, training
from core.data import datasets
from core.lab import runs
from core.nets import registry
from tests import canvas_payloads, class_drawings
from tests.pages import open_page


@pytest.fixture(scope="module")
def drawn_class(tmp_path_factory):
    yield from class_drawings.real_class(tmp_path_factory)


@pytest.fixture(scope="module")
def class_run(drawn_class, engine_home):
    """The teacher's one press, for real: a fine-tune of the DNN on the class's hands, launched on the engine
    (Ray, MLflow) and waited for. The tests of its scores and of the engine's path read this one run: the worker
    runs the recipe itself (core.training.class_finetune.train_class), so one training proves both."""
    code, secret, _ = drawn_class
    run = training.train_on_class(code, secret, "dnn", 1, mnist_limit=2000, repeats=5, mnist_test_limit=1000)
    return runs.wait(run.run_id, timeout_s=600, poll_s=1)


@pytest.mark.slow
def test_the_class_set_is_split_by_student_never_by_drawing(drawn_class):
    code, secret, _ = drawn_class
    data = dataset.class_data(code)
    assert len(data.y) == 42 and data.x.shape == (42, 28, 28) and data.x.dtype == np.uint8
    held = set(data.students[data.held_out])
    learnt = set(data.students[~data.held_out])
    assert held and learnt and not held & learnt  # every student on one side only
    assert len(held) == round(dataset.HELD_OUT * 6)  # 6 students: 4 drew every digit, one stumper, one honest
    assert dataset.class_data(code).sha256 == data.sha256  # the same class, the same set
    drawing = store.class_drawings(code)[0]
    store.hide(code, secret, drawing.id)
    try:
        assert dataset.class_data(code).sha256 != data.sha256 and len(dataset.class_data(code).y) == 41
    finally:
        store.hide(code, secret, drawing.id, hidden=False)


def test_one_student_is_too_few_to_test_on_a_student_never_seen():
    with pytest.raises(store.ClassError, match="at least 2 students"):
        dataset.held_out_students(["s1", "s1"])
    assert dataset.held_out_students(["a", "b"]) in ({"a"}, {"b"})


def test_the_teacher_launches_a_run_of_the_class_recipe_a_student_cannot(drawn_class, fake_engine):
    code, secret, _ = drawn_class
    students_token = store.join(code)[1]
    with pytest.raises(store.NotAllowed):
        training.train_on_class(code, students_token)
    assert fake_engine == []
    run = training.train_on_class(code, secret, epochs=1)
    assert [r.run_id for r in fake_engine] == [run.run_id] and run.lab == training.LAB
    params = runs.get(run.run_id).params
    assert params["recipe"] == "class" and params["data_sha256"] == dataset.class_data(code).sha256
    written = store.derived_dir() / f"{code}-{dataset.class_data(code).sha256[:16]}.npz"
    assert params["data"] == str(written) and written.is_file()


@pytest.mark.slow
def finish_with_the_dnns_weights(run: runs.RunInfo) -> None:
    """Finish a launched run as its worker would, its network being the shipped DNN's file (no training)."""
    spec = registry.get("dnn")
    card = {"epochs_run": 1, "train_seconds": 1.0, "confusion_matrix": [[0] * 10] * 10} | registry.card("dnn")
    card |= {f"per_class_{score}": [card["test_accuracy"]] * 10 for score in ("precision", "recall", "f1")}
    runs.log_result(run.run_id, card, spec.path(), spec.card_path(), datasets.get_dataset("mnist").classes)
    runs.client().set_tag(run.run_id, runs.Tag.HAS_MODEL, "1")
    runs.finish(run.run_id, "FINISHED")


@pytest.mark.slow
def test_the_draw_pages_picker_offers_the_classs_network_and_it_reads_a_drawing(drawn_class, fake_engine):
    """Activity 3's network on the Draw page: the teacher's run, once finished, is one of the picker's networks,
    and chosen, it reads the canvas' recorded 7 beside the shipped ones."""
    code, secret, _ = drawn_class
    run = training.train_on_class(code, secret, "dnn", 1)
    name, title = f"{registry.RUN_PREFIX}{run.run_id}", run.label  # "DNN, run 7 (lr 0.0001)"
    finish_with_the_dnns_weights(run)
    at = open_page(None, canvas_payloads.drawing_state("seven_two_strokes"))
    picker = at.multiselect(key="draw_networks")
    assert title in picker.options and registry.get(name).title == title
    picker.set_value([*registry.DRAW_MODELS, name]).run()
    assert not at.exception, at.exception
    (readings,) = [e.proto.body for e in at.get("html") if " reads " in e.proto.body]
    assert f">{title}</b> reads <b>7</b>" in readings
    assert readings.count("</b> reads <b>7</b>") == len(registry.DRAW_MODELS) + 1


@pytest.mark.slow
def test_a_network_fine_tuned_on_the_class_is_scored_on_students_it_never_saw(drawn_class, class_run):
    code, _, _ = drawn_class
    data = dataset.class_data(code)
    assert class_run.status == "FINISHED", class_run.error
    card = runs.card(class_run.run_id)  # the card the recipe wrote, as the run store holds it
    assert card["data"]["class_sha256"] == data.sha256 and card["config"]["mnist_limit"] == 2000
    held = data.held_out
    assert card["class"]["held_out_drawings"] == held.sum() and card["class"]["train_drawings"] == (~held).sum()
    assert card["class"]["held_out_students"] == len(set(data.students[held]))
    for key in ("held_out_accuracy_before", "held_out_accuracy_after"):
        assert 0.5 <= card["class"][key] <= 1  # real digits: most are read, before and after
    assert card["data"]["class_sha256"] == data.sha256 and card["data"]["n_test"] == 1000
    assert card["test_accuracy"] > 0.9 and card["epochs_run"] == 1
    said = captions.training_caption(card)
    after, before = card["class"]["held_out_accuracy_after"], card["class"]["held_out_accuracy_before"]
    fixed, broken = card["class"]["held_out"]["fixed"], card["class"]["held_out"]["broken"]
    assert fixed - broken == round((after - before) * held.sum())  # the pairs behind the two accuracies
    assert said.startswith(f"Taught by {card['class']['train_students']} students' drawings, the DNN reads "
                           f"{round(100 * after)}% of the drawings of {card['class']['held_out_students']} students "
                           f"it never saw ({round(100 * before)}% before): ")
    verdict = ("better than before" if stats.beyond_chance(fixed, broken) else "worse than before"
               if stats.beyond_chance(broken, fixed) else "no better and no worse beyond chance")
    assert f": {verdict} ({fixed} drawing" in said
    assert f"{round(100 * card['test_accuracy'])}% after" in said
    mnist = card["test_changes"]
    assert mnist["fixed"] - mnist["broken"] == round((card["test_accuracy"] - card["test_accuracy_before"]) * 1000)
    import keras

    model = keras.saving.load_model(runs.model_dir(class_run.run_id) / "dnn.keras", compile=False, safe_mode=True)
    assert model.count_params() == registry.load("dnn").count_params()


def test_the_engine_rebuilds_the_class_recipe_from_a_runs_params(drawn_class):
    """What a worker does with the params the launch recorded (core.lab.engine.execute), without Ray."""
    from core.lab import engine
    from core.training.class_finetune import ClassConfig, train_class

    code, _, _ = drawn_class
    data = dataset.class_data(code)
    sent = ClassConfig(data=str(dataset.write(data, code)), data_sha256=data.sha256, epochs=2)
    config, function = engine._recipe(sent.recipe, sent.params())
    assert function is train_class and config.params() == sent.params()


@pytest.mark.slow
def test_train_on_our_hands_runs_on_the_engine_and_its_network_reads_on_the_draw_page(drawn_class, class_run):
    """The teacher's one press, through Ray and MLflow: the run finishes with the held-out students' scores on its
    card and the class set's hash, and its network is offered where lab networks are (the Draw page's picker)."""
    code, secret, _ = drawn_class
    run = class_run
    assert run.status == "FINISHED", run.error
    card = runs.card(run.run_id)
    assert card["data"]["class_sha256"] == dataset.class_data(code).sha256
    assert 0 < card["class"]["held_out_drawings"] < 42 and run.metrics["test_accuracy"] == card["test_accuracy"]
    assert f"run:{run.run_id}" in runs.finished_models("mnist")
    store.end_class(code, secret)  # ending the class deletes the sets made of it
    assert not list(store.derived_dir().glob(f"{code}-*"))


def four_students_class() -> tuple[str, str, list[str]]:
    """A class in the module's store where four students each sent the canvas' recorded 7: code, secret, tokens."""
    info, secret = store.start_class()
    store.set_activity(info.code, secret, store.DRAW)
    sent = canvas_payloads.sent("seven_two_strokes")
    tokens = []
    for _ in range(4):
        me, token = store.join(info.code)
        store.submit(info.code, token, "s", me.prompt, sent["strokes"], sent["png"])
        tokens.append(token)
    return info.code, secret, tokens


def test_ending_a_class_deletes_its_training_runs_and_their_networks(drawn_class, fake_engine):
    code, secret, tokens = four_students_class()
    run = training.train_on_class(code, secret, "dnn", 1)
    finish_with_the_dnns_weights(run)
    other_code, other_secret, _ = four_students_class()
    others = training.train_on_class(other_code, other_secret, "dnn", 1)  # another class's run: kept
    artifacts = runs.model_dir(run.run_id).parent
    assert (artifacts / "model").is_dir()

    with pytest.raises(store.NotAllowed):
        training.end_class(code, tokens[0])  # a student's token ends nothing
    assert [r.run_id for r in runs.search(group=f"{training.LAB}:{code}")] == [run.run_id]

    training.end_class(code, secret)
    assert not artifacts.exists()
    assert runs.search(group=f"{training.LAB}:{code}") == []
    assert [r.run_id for r in runs.search(group=f"{training.LAB}:{other_code}")] == [others.run_id]
    with pytest.raises(store.ClassError):
        store.class_info(code)


def test_train_on_our_hands_says_better_or_worse_only_beyond_chance():
    """A run that fixed 2 drawings and broke 1 is no better (the sheets' real runs: 161 -> 161, 209 -> 205)."""
    card = {"title": "DNN fine-tuned on the class's hands", "test_accuracy_before": 0.989, "test_accuracy": 0.988,
            "class": {"train_students": 19, "held_out_students": 8, "held_out_accuracy_before": 0.972,
                      "held_out_accuracy_after": 0.953, "held_out": {"fixed": 0, "broken": 4}},
            "test_changes": {"fixed": 33, "broken": 27}}
    assert ": no better and no worse beyond chance (0 drawings fixed, 4 broken). MNIST" in captions.training_caption(
        card)
    card["class"]["held_out"] = {"fixed": 12, "broken": 1}
    assert ": better than before (12 drawings fixed, 1 broken)." in captions.training_caption(card)
    card["test_changes"] = {"fixed": 16, "broken": 74}  # the ResNet's MNIST after a fine-tune, measured
    assert captions.training_caption(card).endswith("after (worse beyond chance: 74 digits lost, 16 gained).")
