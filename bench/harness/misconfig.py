"""Settings that name something unusable, made on purpose: shared by tests/test_misconfig.py,
tests/test_remote_cluster.py and bench/bench_misconfig.py."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil

from bench.harness.browser import free_port


def writable(folder: Path) -> bool:
    try:
        (folder / ".vp_probe").touch()
        (folder / ".vp_probe").unlink()
        return True
    except OSError:
        return False


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` made read-only for the block: by its mode bits, or for root (whom they do not bind) with
    ``chattr +i``. Raises ``OSError`` when neither works here."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    immutable = False
    try:
        if writable(folder):
            immutable = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
            if not immutable or writable(folder):
                raise OSError(f"cannot make {folder} read-only here")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
        folder.chmod(0o755)


def start_head(temp_dir: Path, env: dict, num_cpus: int = 1) -> int:
    """``ray start --head`` on free ports, its files in ``temp_dir``: the GCS port."""
    port = free_port()
    ray = str(Path(sys.executable).with_name("ray"))
    out = subprocess.run([ray, "start", "--head", f"--port={port}", f"--temp-dir={temp_dir}", f"--num-cpus={num_cpus}",
                          "--include-dashboard=false", f"--dashboard-port={free_port()}",
                          f"--dashboard-agent-listen-port={free_port()}", f"--ray-client-server-port={free_port()}",
                          "--disable-usage-stats"], env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    return port


def stop_head(temp_dir: Path) -> None:
    """End the processes of the head started in ``temp_dir`` (never ``ray stop``: it ends every cluster here)."""
    mine = [p for p in psutil.process_iter(["cmdline"]) if str(temp_dir) in " ".join(p.info["cmdline"] or [])]
    for proc in list(mine):
        try:
            mine += proc.children(recursive=True)
        except psutil.Error:
            pass
    for proc in mine:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(mine, timeout=10)
