"""The own-classes store under stress: long names, sources that are not pictures, kills and crashes half-way,
two teachings at once, damaged files, a fresh clone's model files, and a project that does not exist.

Each test reproduces what a reliability probe found (issue 30, section 4)."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from bench.harness import shapes
from core import own_classes as oc
from core.base.paths import ROOT
from core.data import zipdata
from core.nets import registry
from core.own_classes import ProjectError

pytestmark = pytest.mark.skipif(oc.DEFAULT_MODEL not in registry.available(dataset=None),
                                reason=f"needs the shipped {oc.DEFAULT_MODEL} network in assets/")
KINDS = ("circle", "cross")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A VP_HOME of the test's own, so the projects listed are this test's alone."""
    monkeypatch.setenv("VP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def write_pictures(folder, per_class=5, seed=0):
    """Class folders of drawn shapes as PNG files: the least a project may be taught from."""
    rng = np.random.default_rng(seed)
    for kind in KINDS:
        (folder / kind).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray((shapes.draw(kind, rng) * 255).astype(np.uint8)).save(folder / kind / f"{i}.png")
    return folder


def cli(*args, home, code=None):
    """``python -m core ARGS`` in a new process (or ``code`` run by Python), with ``home`` as VP_HOME."""
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "core", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=os.environ | {"VP_HOME": str(home)})


# --- Names, and what is read ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("length", [50, 70])
def test_a_long_name_is_taught_and_taught_again_without_duplicates(home, tmp_path, length):
    """Over 41 characters the staging project's name was cut in some places only: [Errno 2] (50), or the second
    teaching added to the old project, 10 a class instead of 5 (70)."""
    pictures = write_pictures(tmp_path / "pictures")
    name = ("a long project name " * 4)[:length]
    for _ in range(2):
        result = oc.teach(pictures, name)
        assert result["examples"] == {"circle": 5, "cross": 5}, result
    assert oc.list_projects() == [oc.clean_name(name)]
    assert oc.counts(oc.clean_name(name)) == {"circle": 5, "cross": 5}


@pytest.mark.timeout(60)  # before the fix each of these read forever
@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_a_source_that_is_not_a_file_or_a_folder_is_refused_at_once(home, tmp_path, kind):
    source = "/dev/zero" if kind == "device" else tmp_path / "pipe"
    if kind == "fifo":
        os.mkfifo(source)
    with pytest.raises(ProjectError, match="is not a file or a folder"):
        oc.teach(source, "zeros")
    assert oc.list_projects() == []


def test_a_big_source_is_refused_by_its_size_before_it_is_read(home, tmp_path, monkeypatch):
    """Sizes come from the file system (sparse files: nothing is written), and nothing is read."""
    big_zip = tmp_path / "big.zip"
    with open(big_zip, "wb") as f:
        f.truncate(3 * 2**30)
    folder = write_pictures(tmp_path / "pictures")
    with open(folder / "circle" / "huge.png", "wb") as f:
        f.truncate(450 * 2**20)
    read = []
    monkeypatch.setattr(zipdata, "open_zip", lambda *a: read.append(a))  # nothing may get this far
    with pytest.raises(ProjectError, match="The zip is 3072 MB"):
        oc.teach(big_zip, "big")
    with pytest.raises(ProjectError) as refused:
        oc.teach(folder, "big")
    assert "huge.png" in str(refused.value) and "The zip is" not in str(refused.value), refused.value
    assert read == [] and oc.list_projects() == []


# --- Kills, crashes and two teachings at once ----------------------------------------------------------------

KILLED = """
import os, pathlib, sys
from core import own_classes as oc
from core.own_classes import zips
source, where = sys.argv[1], sys.argv[2]
if where == "after features":  # killed while the new project is half-made
    zips.held_out = lambda *a, **k: os._exit(9)
else:  # killed between moving the old project aside and moving the new one in
    rename = pathlib.Path.rename
    def dying(self, target):
        if "importing" in self.name:
            os._exit(9)
        return rename(self, target)
    pathlib.Path.rename = dying
oc.teach(source, "shapes")
"""


@pytest.mark.slow
@pytest.mark.parametrize("where", ["after features", "between the renames"])
def test_a_teaching_killed_half_way_leaves_the_old_project_listed_alone(home, tmp_path, where):
    old = write_pictures(tmp_path / "old", per_class=6)
    oc.teach(old, "shapes")
    new = write_pictures(tmp_path / "new", per_class=5, seed=1)
    killed = subprocess.run([sys.executable, "-c", KILLED, str(new), where], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, env=os.environ | {"VP_HOME": str(home)})
    assert killed.returncode == 9, killed.stderr[-2000:]
    assert oc.list_projects() == ["shapes"]
    assert oc.counts("shapes") == {"circle": 6, "cross": 6}  # the old project, whole
    assert oc.heads_of("shapes")
    oc.teach(new, "shapes")  # and a new teaching cleans up what the killed one left
    assert oc.counts("shapes") == {"circle": 5, "cross": 5}
    assert sorted(p.name for p in (home / "own_classes").iterdir() if "importing" in p.name) == []


@pytest.mark.slow
def test_two_teachings_of_one_name_at_once_both_succeed(home, tmp_path, monkeypatch):
    """The second starts while the first is half-way (it runs inside the first's scoring): before, it deleted
    the first's staging project, which then failed naming 'shapes importing <hash>'."""
    pictures = write_pictures(tmp_path / "pictures")
    real, inner = oc.zips.held_out, []

    def scoring_while_another_teaches(*args, **kwargs):
        if not inner:
            inner.append(None)
            inner[0] = oc.teach(pictures, "shapes")
        return real(*args, **kwargs)

    monkeypatch.setattr(oc.zips, "held_out", scoring_while_another_teaches)
    outer = oc.teach(pictures, "shapes")
    assert inner[0]["examples"] == outer["examples"] == {"circle": 5, "cross": 5}
    assert oc.list_projects() == ["shapes"] and oc.counts("shapes") == {"circle": 5, "cross": 5}


# --- Damaged files -------------------------------------------------------------------------------------------


def damaged_store(home):
    """Three projects made without the network: one sound, one with a truncated head, one with an empty
    project.json."""
    rng = np.random.default_rng(0)
    for name in ("sound", "cut_head", "empty_json"):
        folder = oc.create_project(name, list(KINDS))
        for kind in KINDS:
            for _ in range(3):
                pixels = np.zeros((28, 28), np.uint8)
                row, col = rng.integers(4, 20, 2)
                pixels[row:row + 6, col:col + 6] = 255
                oc.add_example(folder, kind, pixels)
    head = oc.train_head(np.eye(6, 4) + 0.1, np.array([0, 0, 0, 1, 1, 1]), 2, list(KINDS), "resnet", "x")
    oc.save_head("cut_head", head)
    path = home / "own_classes" / "cut_head" / "head-resnet.json"
    path.write_text(path.read_text()[:100])
    (home / "own_classes" / "empty_json" / "project.json").write_text("")


@pytest.mark.slow
def test_classes_list_names_each_damaged_project_and_lists_the_others(home):
    damaged_store(home)
    out = cli("classes", "list", home=home)
    lines = {line["name"]: line for line in map(json.loads, out.stdout.splitlines())}
    assert out.returncode == 1, out.stderr  # one or more damaged, as predict says when one file failed
    assert sorted(lines) == ["cut_head", "empty_json", "sound"]
    assert lines["sound"]["examples"] == {"circle": 3, "cross": 3}
    assert "head-resnet.json" in lines["cut_head"]["damaged"] and "train it again" in lines["cut_head"]["damaged"]
    assert "project.json" in lines["empty_json"]["damaged"]
    assert "classes delete empty_json" in lines["empty_json"]["damaged"]


def test_a_damaged_project_can_be_rebuilt_from_its_examples(home):
    damaged_store(home)
    with pytest.raises(ProjectError, match="empty_json"):
        oc.class_names("empty_json")
    oc.repair_project("empty_json")
    assert oc.class_names("empty_json") == list(KINDS) and oc.counts("empty_json") == {"circle": 3, "cross": 3}


# --- Keys and quick answers -------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_fresh_clones_byte_identical_model_keeps_heads_and_features(home, tmp_path, monkeypatch):
    """Heads were keyed by the model file's mtime: a clone (or a copy) made every project refuse to predict."""
    pictures = write_pictures(tmp_path / "pictures")
    oc.teach(pictures, "shapes", "resnet")
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(registry.get("resnet").path(), clone / "resnet.keras")  # same bytes, a new mtime
    os.utime(clone / "resnet.keras", ns=(1, 1))
    monkeypatch.setattr(registry, "MODELS_DIR", clone)
    assert registry.version("resnet") != oc.heads_of("shapes")[0].model_version
    embedded = []
    monkeypatch.setattr(oc.feature_cache, "embed", lambda *a, **k: embedded.append(a))
    oc.features("shapes", "resnet")
    assert embedded == []  # the cached features still hold
    image = oc.examples("shapes")[0][0]
    assert oc.predict(oc.heads_of("shapes")[0], "resnet", image).argmax() == 0


@pytest.mark.slow
def test_predict_with_a_missing_project_answers_before_loading_tensorflow(home, tmp_path):
    picture = tmp_path / "x.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(picture)
    code = textwrap.dedent(f"""
        import sys
        from core.__main__ import main
        rc = main(["predict", "--model", "classes:missing", {str(picture)!r}])
        print(rc, "tensorflow" in sys.modules)
    """)
    out = cli(home=home, code=code)
    assert out.stdout.split() == ["2", "False"], out.stdout + out.stderr[-2000:]
    assert "no project named 'missing'" in out.stderr
