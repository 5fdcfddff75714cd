"""How long a misconfigured setting takes to be said, and what is said: the command line and the Compare page.

Usage: VP_DATA_DIR=../shared/data python -m bench.bench_misconfig [--timeout 120] [--no-page]

Each case runs ``python -m core ...`` in a fresh process with a temporary ``VP_HOME`` (never
~/.vision-playground) and one setting wrong:

- dead Ray address: ``RAY_ADDRESS`` names a local port nothing listens on (``core run``);
- dead MLflow server: ``MLFLOW_TRACKING_URI`` names such a port (``core runs``, then ``core run``);
- read-only VP_HOME: a folder made read-only (mode 555, or ``chattr +i`` for root), ``core runs`` and ``core run``;
- missing data set: ``VP_DATA_DIR`` an empty folder and ``HOME`` a temporary one (no Keras cache), ``core run``
  (only where MNIST cannot be downloaded: otherwise the worker would download it).

It prints, per case, the seconds from the process start to its exit, the exit status, whether stderr holds a
traceback, and the message (the ``error:`` line). The seconds include Python's start and, for ``core run``
cases that reach the engine, TensorFlow's import: on a quiet 2-core machine a bare ``python -m core runs``
takes about 2 s. The page case opens the Compare page through AppTest with a working store, then reruns it
with ``MLFLOW_TRACKING_URI`` at a dead port, and prints that rerun's seconds and its error message.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness.browser import free_port  # noqa: E402
from bench.harness.command_line import Result, cli  # noqa: E402
from bench.harness.misconfig import read_only  # noqa: E402

TINY = ("--model", "net002", "--epochs", "1", "--limit", "600", "--batch-size", "64", "--no-augment",
        "--polish-epochs", "0")


def timed(*args: str, env: dict[str, str], timeout: float) -> Result:
    try:
        return cli(*args, env=env, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        stderr = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        return Result(-9, "", stderr + f"\n(killed after {timeout:.0f} s)", timeout)


def can_download_mnist() -> bool:
    try:
        socket.create_connection(("storage.googleapis.com", 443), timeout=3).close()
        return True
    except OSError:
        return False


def cases(tmp: Path, timeout: float):
    """(name, command line, Result) for each misconfiguration."""
    home = tmp / "home"
    dead = f"127.0.0.1:{free_port()}"
    yield "dead Ray address", "core run", timed("run", *TINY, env={"VP_HOME": str(home), "RAY_ADDRESS": dead},
                                                timeout=timeout)
    uri = f"http://127.0.0.1:{free_port()}"
    for command in (("runs",), ("run", *TINY)):
        yield "dead MLflow server", f"core {command[0]}", timed(
            *command, env={"VP_HOME": str(home), "MLFLOW_TRACKING_URI": uri}, timeout=timeout)
    locked = tmp / "read-only"
    try:
        with read_only(locked):
            for command in (("runs",), ("run", *TINY)):
                yield "read-only VP_HOME", f"core {command[0]}", timed(*command, env={"VP_HOME": str(locked)},
                                                                       timeout=timeout)
    except OSError as e:
        print(f"read-only VP_HOME: skipped ({e})")
    if can_download_mnist():
        print("missing data set: skipped (this machine can download MNIST)")
        return
    empty = tmp / "empty"
    empty.mkdir()
    yield "missing data set", "core run", timed("run", *TINY, env={
        "VP_HOME": str(home), "VP_DATA_DIR": str(empty), "HOME": str(tmp / "no-home")}, timeout=timeout)


def page_case(tmp: Path) -> tuple[float, list[str], str | None]:
    """The Compare page rerun with a dead tracking server: seconds, its error messages, any exception."""
    os.environ["VP_HOME"] = str(tmp / "page-home")
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ.pop("RAY_ADDRESS", None)
    from streamlit.testing.v1 import AppTest

    os.chdir(ROOT / "tests")
    at = AppTest.from_file("../app.py", default_timeout=300)
    at.run()
    at.switch_page("app_pages/compare.py")
    at.run()
    os.environ["MLFLOW_TRACKING_URI"] = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    at.run()
    seconds = time.monotonic() - started
    return seconds, [e.value for e in at.error], str(at.exception[0].value) if at.exception else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--timeout", type=float, default=120, help="seconds before a case is killed")
    parser.add_argument("--no-page", action="store_true", help="skip the Compare page case")
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs, load average {load:.1f}; cases killed after {args.timeout:.0f} s\n")
    print(f"{'case':20} {'command':10} {'seconds':>8} {'exit':>5} {'traceback':>9}  message")
    with tempfile.TemporaryDirectory(prefix="vp_bench_misconfig_") as tmp:
        for name, command, out in cases(Path(tmp), args.timeout):
            seconds = f"{out.seconds:8.1f}" if out.returncode != -9 else f"{'>' + str(int(out.seconds)):>8}"
            traceback = "yes" if "Traceback" in out.stderr else "no"
            print(f"{name:20} {command:10} {seconds} {out.returncode:5} {traceback:>9}  {out.message}", flush=True)
        if not args.no_page:
            seconds, errors, exception = page_case(Path(tmp))
            message = next((e for e in errors if "MLflow" in e), "(no message)")
            print(f"{'dead MLflow server':20} {'Compare':10} {seconds:8.1f} {'-':>5} "
                  f"{'yes' if exception else 'no':>9}  {message}")


if __name__ == "__main__":
    main()
