"""The server settings in .streamlit/config.toml, as ``streamlit run`` reads them from the project folder."""

import functools
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from bench.harness import browser
from core.base.paths import ROOT


@functools.cache
def project_config() -> list[str]:
    """The lines of ``streamlit config show`` run from the project folder, as ``streamlit run app.py`` reads it."""
    return subprocess.run([sys.executable, "-m", "streamlit", "config", "show"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120).stdout.splitlines()


def test_streamlit_reads_the_file_watcher_off_from_the_project_config():
    """A newcomer's virtual environment inside the project folder must not be watched (see the next test)."""
    assert 'fileWatcherType = "none"' in project_config(), "server.fileWatcherType is not none"


@pytest.mark.slow
def test_a_virtual_environment_in_the_project_folder_does_not_flood_the_log(tmp_path):
    """Streamlit's file watcher watches the app's folder and everything under it with inotify: with a .venv
    there, reading its files (an import, pip) queues more events than the kernel keeps, and the log fills
    with 'Inotify queue overflowed' (its blacklist of venv folders does not narrow what inotify watches)."""
    shutil.copytree(ROOT / ".streamlit", tmp_path / ".streamlit")
    (tmp_path / "app.py").write_text("import streamlit as st\n\nst.write('hello')\n")
    venv = tmp_path / ".venv" / "lib" / "python3.11" / "site-packages"
    for p in range(40):  # 4,000 small modules, 16 MB: a tenth of a TensorFlow environment
        (venv / f"pkg{p}").mkdir(parents=True)
        for m in range(100):
            (venv / f"pkg{p}" / f"m{m}.py").write_text("x = 1\n")
    port = browser.free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
                                   f"--server.port={port}", "--server.address=127.0.0.1"],
                                  cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                        break
                except OSError:
                    assert time.monotonic() < deadline and server.poll() is None, log.read_text()
                    time.sleep(0.2)
            from websockets.sync.client import connect

            with connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"]):
                time.sleep(2)  # a visitor's session: the watcher, when there is one, watches from now on
                subprocess.run("for i in 1 2 3 4 5 6; do find .venv -type f -print0 | xargs -0 cat > /dev/null & done; "
                               "wait", shell=True, cwd=tmp_path, check=True, timeout=60)
                time.sleep(2)
        finally:
            server.terminate()
            server.wait(10)
    text = log.read_text()
    assert "Inotify queue overflowed" not in text, text[-2000:]


def test_streamlit_magic_is_off_and_no_page_leans_on_it():
    """Magic would show a page's bare expressions; it is off (.streamlit/config.toml says why: on CPython 3.11 its
    parse of a page beside a side thread's traceback broke the page with a SystemError), so a bare expression in
    a page would silently show nothing."""
    import ast

    assert "magicEnabled = false" in project_config(), "runner.magicEnabled is not false"
    bare = []
    for path in [ROOT / "app.py", *sorted((ROOT / "app_pages").rglob("*.py"))]:
        tree = ast.parse(path.read_text())
        owners = [n for n in ast.walk(tree) if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef))]
        docstrings = {id(n.body[0]) for n in owners if n.body and isinstance(n.body[0], ast.Expr)
                      and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Expr) and not isinstance(node.value, (ast.Call, ast.Await, ast.Yield))
                    and id(node) not in docstrings):
                bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bare, bare
