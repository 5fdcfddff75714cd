"""Class mode on the command line: ``python -m core class list|export|delete`` (issue 31)."""

from __future__ import annotations

import json
import sys
import zipfile

import pytest

import core.__main__ as cli
from bench.harness import command_line
from core.classroom import db, store
from tests import canvas_payloads


@pytest.fixture
def drawn(tmp_path, monkeypatch):
    """A class of three students (nicknamed), four drawings, one of them hidden by the teacher."""
    monkeypatch.setenv(db.DB_ENV, f"sqlite:///{tmp_path / 'classes.db'}")
    info, secret = store.start_class()
    store.set_activity(info.code, secret, store.DRAW)
    sent = canvas_payloads.sent("seven_two_strokes")
    made = []
    for n in range(3):
        me, token = store.join(info.code, f"Nickname{n}")
        made.append(store.submit(info.code, token, "a", me.prompt, sent["strokes"], sent["png"]))
    made.append(store.submit(info.code, token, "b", store.rejoin(info.code, token).prompt, sent["strokes"],
                             sent["png"]))
    store.hide(info.code, secret, made[0].id)
    return info.code, made[1:], made[0]


@pytest.fixture
def main(monkeypatch):
    """``python -m core`` in this process, its JSON lines where capsys reads them (the module keeps the stdout of
    its import)."""
    def run(argv: list[str]) -> int:
        monkeypatch.setattr(cli, "_out", sys.stdout)
        return cli.main(argv)

    return run


def lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.mark.slow
def test_class_list_prints_a_json_line_per_class(drawn, tmp_path):
    code, shown, _ = drawn
    out = command_line.cli("class", "list", env={db.DB_ENV: f"sqlite:///{tmp_path / 'classes.db'}"}, timeout=120)
    assert out.returncode == 0, out.stderr
    [line] = out.lines
    assert (line["code"], line["drawings"], line["students"]) == (code, len(shown), 3)


def test_class_export_writes_pngs_per_label_strokes_and_a_card_without_nicknames(drawn, tmp_path, capsys, main):
    code, shown, hidden = drawn
    target = tmp_path / "class.zip"
    assert main(["class", "export", code.lower(), str(target)]) == 0
    [card] = lines(capsys)
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        assert sorted(n for n in names if n.endswith(".png")) == sorted(
            f"images/{d.label}/{d.student}-{d.id}.png" for d in shown)  # the hidden drawing is left out
        assert archive.read(f"images/{shown[0].label}/{shown[0].student}-{shown[0].id}.png") == shown[0].png
        rows = [json.loads(line) for line in archive.read("strokes.jsonl").decode().splitlines()]
        assert [(r["id"], r["label"], r["strokes"]) for r in rows] == [(d.id, d.label, d.strokes) for d in shown]
        assert json.loads(archive.read("card.json")) == {k: v for k, v in card.items() if k != "zip"}
        everything = b"".join(archive.read(n) for n in names)
    assert (card["drawings"], card["students"], sum(card["labels"].values())) == (3, 2, 3)
    assert b"Nickname" not in everything and hidden.student not in str(names)


def test_class_delete_removes_the_class_and_a_wrong_code_is_a_clear_error(drawn, tmp_path, capsys, main):
    code, _, _ = drawn
    assert main(["class", "export", "NOSUCH", str(tmp_path / "x.zip")]) == 2
    assert "no class with the code 'NOSUCH'" in capsys.readouterr().err and not (tmp_path / "x.zip").exists()
    assert main(["class", "delete", code]) == 0
    assert lines(capsys) == [{"deleted": code}] and store.list_classes() == []
    assert main(["class", "delete", code]) == 2


@pytest.mark.parametrize("address", ["postgresql+psycopg://nobody@127.0.0.1:{port}/class", "not a database"])
def test_a_class_store_that_cannot_be_opened_is_said_in_one_line(address, monkeypatch, capsys, main):
    from bench.harness.browser import free_port

    monkeypatch.setenv(db.DB_ENV, address.format(port=free_port()))
    assert main(["class", "list"]) == 2
    said = capsys.readouterr().err
    assert said.startswith(f"error: the class store at {db.DB_ENV}=") and "cannot be opened" in said
    assert "nobody" not in said and said.count("\n") == 1
