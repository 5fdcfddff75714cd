"""Your own classes from the command line: `core classes train|list|delete` and `core predict --model classes:NAME`.

Slow: each command is a new process that loads TensorFlow (about 10 s each here)."""

import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from PIL import Image

from bench.harness import command_line, shapes
from core import own_classes
from core.base.paths import ROOT

pytestmark = pytest.mark.slow


def cli(*args, home):
    out = command_line.cli(*args, env={"VP_HOME": str(home)}, timeout=300)
    return out, out.lines


def write_shapes(folder, kinds=shapes.SHAPES, per_class=8, seed=0, dark_on_light=True):
    """Class folders of drawn shapes as PNG files (dark ink on white, as a scan or a phone picture would be)."""
    rng = np.random.default_rng(seed)
    for kind in kinds:
        (folder / kind).mkdir(parents=True)
        for i in range(per_class):
            ink = (shapes.draw(kind, rng) * 255).astype(np.uint8)
            Image.fromarray(255 - ink if dark_on_light else ink).save(folder / kind / f"{i}.png")
    return folder


@pytest.fixture(scope="module")
def taught(tmp_path_factory):
    """A project taught from a folder of 3 shapes x 8 pictures, in a VP_HOME of its own."""
    home = tmp_path_factory.mktemp("home")
    folder = write_shapes(tmp_path_factory.mktemp("pictures") / "shapes")
    out, lines = cli("classes", "train", str(folder), "--name", "shapes", home=home)
    assert out.returncode == 0, out.stderr[-2000:]
    return home, lines


def test_teaching_from_a_folder_prints_one_json_line_with_a_held_out_score(taught):
    home, lines = taught
    assert len(lines) == 1
    line = lines[0]
    assert line["name"] == "shapes" and line["classes"] == ["circle", "cross", "triangle"]
    assert line["examples"] == {"circle": 8, "cross": 8, "triangle": 8}
    assert 0.8 <= line["held_out_accuracy"] <= 1.0, line  # drawn shapes are easy for the ResNet's features
    assert (home / "own_classes" / "shapes" / "project.json").is_file()


def test_the_project_reads_new_pictures_by_class_name(taught, tmp_path):
    home, _ = taught
    new = write_shapes(tmp_path / "new", per_class=2, seed=7)
    files = sorted(str(p) for p in new.rglob("*.png"))
    out, lines = cli("predict", "--model", "classes:shapes", *files, home=home)
    assert out.returncode == 0, out.stderr[-2000:]
    assert [line["file"] for line in lines] == files
    right = sum(line["label"] == os.path.basename(os.path.dirname(line["file"])) for line in lines)
    assert right >= len(files) - 1, lines
    assert all(len(line["probs"]) == 3 and abs(sum(line["probs"]) - 1) < 1e-4 for line in lines)


def test_list_shows_the_project_and_the_network_its_head_reads(taught):
    home, _ = taught
    out, lines = cli("classes", "list", home=home)
    assert out.returncode == 0, out.stderr[-2000:]
    assert lines == [{"name": "shapes", "classes": ["circle", "cross", "triangle"],
                      "examples": {"circle": 8, "cross": 8, "triangle": 8}, "trained_on": [own_classes.DEFAULT_MODEL]}]


def test_listing_and_deleting_projects_do_not_load_keras():
    """Keras takes seconds to import; `classes list` and `delete` need none of it (9.5 s -> 2 s a call here)."""
    code = ("import sys; from core import own_classes; own_classes.list_projects(); "
            "print('keras' in sys.modules, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"], out.stdout


def test_a_zip_that_fails_the_checks_leaves_the_project_as_it_was(taught, tmp_path):
    home, _ = taught
    bad = tmp_path / "two.zip"
    with zipfile.ZipFile(bad, "w") as z:  # 2 pictures a class: the import asks for 5
        for kind in ("circle", "cross"):
            for i in range(2):
                z.writestr(f"{kind}/{i}.png", b"not a picture")
    out, lines = cli("classes", "train", str(bad), "--name", "shapes", home=home)
    assert out.returncode == 2 and lines == [], (out.returncode, out.stdout)
    errors = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert "Traceback" not in out.stderr and len(errors) == 1, out.stderr[-2000:]
    assert "at least 5" in errors[0], errors
    _, listed = cli("classes", "list", home=home)
    assert [p["name"] for p in listed] == ["shapes"] and listed[0]["examples"]["circle"] == 8


def test_teaching_again_replaces_the_project_and_delete_removes_it(tmp_path):
    home = tmp_path / "home"
    zipped = tmp_path / "two.zip"
    folder = write_shapes(tmp_path / "two", kinds=("circle", "cross"), per_class=5, seed=3)
    with zipfile.ZipFile(zipped, "w") as z:
        for path in folder.rglob("*.png"):
            z.write(path, path.relative_to(folder).as_posix())
    write_shapes(tmp_path / "three", per_class=5)
    assert cli("classes", "train", str(tmp_path / "three"), "--name", "mine", home=home)[0].returncode == 0
    out, lines = cli("classes", "train", str(zipped), "--name", "mine", "--model", "convnet", home=home)
    assert out.returncode == 0, out.stderr[-2000:]
    assert lines[0]["classes"] == ["circle", "cross"] and lines[0]["model"] == "convnet"
    _, listed = cli("classes", "list", home=home)
    assert listed == [{"name": "mine", "classes": ["circle", "cross"], "examples": {"circle": 5, "cross": 5},
                       "trained_on": ["convnet"]}]
    out, lines = cli("classes", "delete", "mine", home=home)
    assert out.returncode == 0 and lines == [{"deleted": "mine"}]
    assert cli("classes", "list", home=home)[1] == []
    out, _ = cli("predict", "--model", "classes:mine", str(next(folder.rglob("*.png"))), home=home)
    assert out.returncode == 2 and "no project named 'mine'" in out.stderr, out.stderr[-2000:]
