"""Every environment variable the app reads is listed once, in core.base.settings, and the README's settings table
gives each one with the same default."""

import ast
import re
from pathlib import Path

import pytest

from core.base import settings
from core.base.paths import ROOT

README = ROOT / "README.md"


def readme_settings_table(text: str) -> dict[str, str]:
    """The README's settings table (the one headed ``| setting | default | what |``): name -> default cell."""
    rows, inside = {}, False
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else None
        if cells and [c.lower() for c in cells[:2]] == ["setting", "default"]:
            inside = True
        elif inside and cells is None:
            break
        elif inside and not set(cells[0]) <= set("-: "):
            rows[cells[0].strip("`")] = cells[1]
    return rows


def shown_default(cell: str) -> str | None:
    """The default a table cell gives: its first code span, or None when the cell says there is none."""
    if cell.lower().startswith("none"):
        return None
    code = re.search(r"`([^`]*)`", cell)
    return code.group(1) if code else cell


def test_the_readme_lists_every_setting_with_its_default():
    table = readme_settings_table(README.read_text())
    assert table, "README.md has no table headed | setting | default | what |"
    missing = [s.name for s in settings.SETTINGS if s.name not in table]
    assert not missing, f"README's settings table lacks {missing}"
    for setting in settings.SETTINGS:
        assert shown_default(table[setting.name]) == setting.default, (setting.name, table[setting.name])
    unknown = set(table) - {s.name for s in settings.SETTINGS}
    assert not unknown, f"README's settings table names {unknown}, which core.base.settings does not list"


def test_the_check_fails_on_a_missing_setting_or_another_default():
    text = README.read_text()
    table = readme_settings_table(text)
    without = "\n".join(line for line in text.splitlines() if not line.startswith("| `VP_MAX_RUNS`"))
    assert "VP_MAX_RUNS" not in readme_settings_table(without)
    other = text.replace("| `VP_MAX_RUNS` | `2` |", "| `VP_MAX_RUNS` | `3` |")
    assert shown_default(readme_settings_table(other)["VP_MAX_RUNS"]) == "3" != shown_default(table["VP_MAX_RUNS"])


def _environment_reads(path: Path) -> list[str]:
    """Where a module reads ``os.environ`` or ``os.getenv`` itself (setting a variable is not reading one)."""
    tree = ast.parse(path.read_text(), str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    reads = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "getenv":
            reads.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        if not (isinstance(node, ast.Attribute) and node.attr == "environ"):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Subscript) and isinstance(parent.ctx, ast.Store):
            continue  # os.environ[NAME] = value
        if isinstance(parent, ast.Attribute) and parent.attr in ("setdefault", "pop"):
            continue  # a default for a library, or a variable removed
        reads.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return sorted(reads, key=lambda where: int(where.rsplit(":", 1)[1]))


def test_modules_read_the_environment_only_through_the_settings_module():
    modules = [ROOT / "app.py", *sorted((ROOT / "app_pages").rglob("*.py")), *sorted((ROOT / "core").rglob("*.py"))]
    reads = [where for path in modules if path != ROOT / "core/base/settings.py" for where in _environment_reads(path)]
    assert not reads, f"read os.environ through core.base.settings instead: {reads}"


def test_the_scan_finds_a_direct_read(tmp_path, monkeypatch):
    monkeypatch.setattr("tests.test_settings.ROOT", tmp_path)
    module = tmp_path / "m.py"
    module.write_text('import os\nos.environ["A"] = "1"\nos.environ.setdefault("B", "2")\nx = os.environ.get("C")\n'
                      'y = os.getenv("D")\n')
    assert _environment_reads(module) == ["m.py:4", "m.py:5"]


@pytest.mark.parametrize(("raw", "expected"), [(None, 2), ("", 2), ("4", 4), ("0", 1), ("many", 2)])
def test_a_number_setting_falls_back_to_its_default(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("VP_MAX_RUNS", raising=False)
    else:
        monkeypatch.setenv("VP_MAX_RUNS", raw)
    assert settings.VP_MAX_RUNS.number() == expected
