"""``python -m core ARGS`` in a fresh process, as a teacher's shell runs it: the one way the tests and benchmarks
run the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

from core.base.paths import ROOT

# Engine settings a command gets only when the caller gives them: a developer's own cluster or tracking server must
# not leak into a test. VP_HOME and VP_DATA_DIR are kept (the tests' VP_HOME is a temporary folder).
ENGINE_ENV = ("MLFLOW_TRACKING_URI", "RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH",
              "VP_MAX_RUNS")
NOISE = ("WARNING: All log messages before absl", "oneDNN", "cudart_stub", "cpu_feature_guard",
         "To enable the following instructions")  # TensorFlow's start-up lines on stderr, not the app's words


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def lines(self) -> list[dict]:
        """stdout's JSON lines (the command line prints one object a line)."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    @property
    def errors(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error: ")]

    @property
    def message(self) -> str:
        """The app's own words on stderr (TensorFlow's start-up lines left out)."""
        lines = [line for line in self.stderr.splitlines() if line.strip() and not any(n in line for n in NOISE)]
        return self.errors[0] if len(self.errors) == 1 else "\n".join(lines[-5:])


def environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the engine settings (``ENGINE_ENV``), then ``env`` over it."""
    return {k: v for k, v in os.environ.items() if k not in ENGINE_ENV} | (env or {})


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "core", *args]


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> Result:
    """Run ``python -m core ARGS`` to its end with ``environment(env)``."""
    started = time.monotonic()
    out = subprocess.run(command(*args), cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                         env=environment(env))
    return Result(out.returncode, out.stdout, out.stderr, time.monotonic() - started)


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``python -m core ARGS`` with ``environment(env)``, its output in pipes (text): for commands that run
    side by side, or are cancelled while they run."""
    return subprocess.Popen(command(*args), cwd=ROOT, env=environment(env), text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def stop(proc: subprocess.Popen, wait_s: float = 10) -> None:
    """End a server the harness started: asked to stop, then killed if it has not within ``wait_s``."""
    proc.terminate()
    try:
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
