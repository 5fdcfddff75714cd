"""The run store's edges: searches for values holding quotes or backslashes, a store file that lost its contents."""

import uuid
from pathlib import Path

import pytest

from core.lab import runs

QUOTED = ["it's", "ends in a backslash\\", 'a "quoted" name', "both ' and \"", "back\\slash'",
          "x' OR tags.`vp.lab` != 'none"]


@pytest.fixture
def group():
    return f"quotes-{uuid.uuid4().hex[:8]}"


def _run(**tags) -> runs.RunInfo:
    run = runs.create({"epochs": 1}, "net002", "cli", "local", extra_tags=tags)
    runs.finish(run.run_id, "KILLED")  # terminal: no other test takes it for an active run
    return run


def test_a_search_for_a_value_with_quotes_finds_that_run_and_only_it(run_store, group):
    made = {value: _run(**{runs.Tag.GROUP: group + value}) for value in QUOTED}
    plain = _run(**{runs.Tag.GROUP: group})
    for value, run in made.items():
        assert [r.run_id for r in runs.search(group=group + value)] == [run.run_id], value
    assert [r.run_id for r in runs.search(group=group)] == [plain.run_id]


def test_a_quote_in_a_lab_or_model_name_neither_breaks_nor_widens_the_search(run_store, group):
    _run(**{runs.Tag.GROUP: group})
    for value in QUOTED:
        assert runs.search(lab=value) == []
        assert runs.search(model=value, group=group) == []
        assert runs.search(dataset=value, status=["KILLED"]) == []


@pytest.mark.slow
def test_an_empty_store_file_is_made_again_and_said(tmp_path):
    """A 0-byte ``mlflow.db`` (a full disk, a copy that failed) held runs once, perhaps: a new store is made in
    its place, and the command says so, naming the file, rather than showing an empty lab without a word."""
    from bench.harness.command_line import cli

    home = tmp_path / "home"
    home.mkdir()
    (home / "mlflow.db").write_bytes(b"")
    out = cli("runs", env={"VP_HOME": str(home)})
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-3000:]
    assert f"The run store {home / 'mlflow.db'} was empty (0 bytes)" in out.stderr, out.stderr[-3000:]
    assert (home / "mlflow.db").stat().st_size > 0  # made again, and usable
    again = cli("runs", env={"VP_HOME": str(home)})
    assert again.returncode == 0 and "was empty" not in again.stderr, again.stderr[-3000:]


def test_a_runs_truncated_model_is_said_to_be_damaged_with_what_to_do(run_store):
    from urllib.parse import unquote, urlparse

    from core.nets import registry
    from tests.test_lab_pages import fake_finished_run

    run = fake_finished_run("net002", "cli", 0.9, epochs=1)
    artifacts = Path(unquote(urlparse(runs.client().get_run(run.run_id).info.artifact_uri).path)) / "model"
    artifacts.mkdir(parents=True)
    whole = registry.get("net002").path(None).read_bytes()
    (artifacts / "net002.keras").write_bytes(whole[: len(whole) // 3])  # a stored model cut short
    with pytest.raises(registry.ModelDamaged, match=r"is damaged \(.* bytes, not a whole \.keras file.*launch the "
                                                    r"run again"):
        registry.load(f"{registry.RUN_PREFIX}{run.run_id}")
