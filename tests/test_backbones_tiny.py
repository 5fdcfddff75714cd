"""The Backbones page's tiny-ImageNet target (issue 29): its classes, learnt on the project's own backbone, on the
small generated folder in the standard layout; explained, and nothing to train, without the folder."""

import pytest

from core.data import tiny_imagenet
from core.training import backbone_transfer
from tests.pages import open_page
from tests.tiny_folder import N_TRAIN, N_VAL, WNIDS, make_folder, use_data_dir


def tiny_target(at):
    at.selectbox(key="bb_target").set_value(tiny_imagenet.NAME).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_tiny_imagenet_classes_are_a_target_for_the_project_s_backbone(run_store, tmp_path, monkeypatch):
    make_folder(tmp_path)
    use_data_dir(tmp_path, monkeypatch)
    at = tiny_target(open_page("backbones"))
    classes = at.multiselect(key="bb_tiny_classes")
    assert classes.value == list(WNIDS)  # the first five of wnids.txt: the three of the generated folder
    assert classes.format_func(WNIDS[0]) == "goldfish"  # by name, from words.txt
    classes.set_value([WNIDS[1], WNIDS[2]]).run()
    assert any(b.label == "Train 2 run(s)" and not b.disabled for b in at.button)
    assert not at.error, [e.value for e in at.error]


@pytest.mark.slow
def test_without_tiny_imagenet_the_target_says_where_to_put_it_and_trains_nothing(run_store, tmp_path, monkeypatch):
    use_data_dir(tmp_path, monkeypatch)
    at = open_page("backbones")
    assert "tiny-ImageNet-200 (not on this machine)" in at.selectbox(key="bb_target").options
    at = tiny_target(at)
    assert any(tiny_imagenet.where_to_put_it() in i.value for i in at.info)
    assert any(b.label == "Train 0 run(s)" and b.disabled for b in at.button) and not at.error
    with pytest.raises(ValueError, match="tiny-ImageNet is not on this machine: unzip"):
        backbone_transfer.BackboneConfig(target=tiny_imagenet.NAME)


@pytest.mark.slow
def test_a_frozen_backbone_learns_tiny_imagenet_classes_picked(run_store, tmp_path, monkeypatch):
    make_folder(tmp_path)
    use_data_dir(tmp_path, monkeypatch)
    config = backbone_transfer.BackboneConfig(target=tiny_imagenet.NAME, classes=[WNIDS[2], WNIDS[0]], mode="frozen",
                                              labels_per_class=N_TRAIN, epochs=2, out_dir=str(tmp_path / "out"))
    card = backbone_transfer.train_backbone(config)
    assert card["classes"] == ["bullfrog", "goldfish"]  # the classes picked, by name, in the order picked
    assert card["data"]["n_train"] == 2 * N_TRAIN and card["n_test"] == 2 * N_VAL
    assert card["transfer_params"]["trainable"] == 2 * 128 + 2  # a 2-way head on the backbone's 128 features
    assert (tmp_path / "out" / "tiny_imagenet_from_cifar5_resnet.keras").is_file()


@pytest.mark.slow
def test_an_imagenet_backbone_learns_tiny_imagenet_classes_too(run_store, tmp_path, monkeypatch):
    """The ImageNet networks take the same target (random weights here: no ImageNet weights on this machine; a
    teacher's copy in $KERAS_HOME/models is read the same way, tests/test_backbones.py)."""
    make_folder(tmp_path)
    use_data_dir(tmp_path, monkeypatch)
    at = tiny_target(open_page("backbones"))
    at.selectbox(key="bb_backbone").set_value("MobileNet-0.25").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="bb_target").value == tiny_imagenet.NAME
    assert any(b.label.startswith("Train ") and not b.disabled for b in at.button), [e.value for e in at.error]
    config = backbone_transfer.BackboneConfig(backbone="MobileNet-0.25", weights="random", input_size=32,
                                              target=tiny_imagenet.NAME, classes=[WNIDS[0], WNIDS[1]],
                                              mode="frozen", labels_per_class=N_TRAIN, epochs=1,
                                              out_dir=str(tmp_path / "out"))
    card = backbone_transfer.train_backbone(config)
    assert card["classes"] == ["goldfish", tiny_imagenet.names([WNIDS[1]])[0]]
    assert card["data"]["n_train"] == 2 * N_TRAIN and card["n_test"] == 2 * N_VAL
