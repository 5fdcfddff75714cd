"""The training lab's cost to the pages: lab page reruns while runs train, the Draw page beside a run, start-up.

Usage: VP_DATA_DIR=../shared/data python -m bench.bench_lab [--n 20] [--draw-n 10]
       (smoke test: --n 3 --draw-n 2 --limit 2000 --epochs 2 --draw-limit 5000 --draw-epochs 3)

1. Draw page in Chromium (bench/bench_browser.py's ``measure``: pen-up to the answer on screen, in the page's
   own clock), once idle and once while one engine run trains (``python -m core run --model dnn --limit 30000
   --epochs 20 --lab cli`` in a subprocess with the same ``VP_HOME``: its own Ray cluster, one run worker of
   1 CPU at nice 10). The idle server is also the cold start: server start to a drawable canvas. The server runs
   under a thin wrapper (this file, ``--serve-watch``) that notes when ``ray``, ``mlflow`` and TensorFlow first
   appear in its ``sys.modules``, and from where they were imported.
2. Lab pages' server-side rerun, as bench/bench_pages.py times a page (Streamlit's AppTest, the whole script
   rerun; an upper bound of the server's time): Compare, Learning rate, Grid and search, and the runs panel
   fragment alone (``app_pages.lab.runs_panel``), idle (no run in the store, Ray not started) and while two runs
   (dnn, 20,000 digits, 5 epochs) train, launched from this process with ``engine.launch`` as the app's server
   launches them, in the page's own lab so its runs panel shows them live. A run that ends is replaced before
   the next rerun (not timed); the runs are cancelled after each page.

All runs go to a temporary ``VP_HOME`` (never ~/.vision-playground).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WATCHED = ("ray", "mlflow", "tensorflow")


def _serve_watch(out: str, streamlit_args: list[str]) -> None:
    """Run ``streamlit <args>`` in this process, writing to ``out`` when the watched modules first appear."""
    started = time.time()
    seen: dict[str, dict] = {}

    class Spy:  # a meta-path finder that finds nothing: it only notes who first imports a watched module
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name in WATCHED and name not in seen:
                stack = [f"{Path(f.filename).relative_to(ROOT)}:{f.lineno} {f.line}"
                         for f in traceback.extract_stack()[:-1] if f.filename.startswith(str(ROOT))]
                seen[name] = {"at_s": time.time() - started, "from": stack[-12:]}
            return None

    sys.meta_path.insert(0, Spy)

    def write() -> None:
        while True:
            tmp = out + ".tmp"
            Path(tmp).write_text(json.dumps({"started": started, "seen": seen,
                                             "loaded": {m: m in sys.modules for m in WATCHED}}))
            os.replace(tmp, out)
            time.sleep(0.2)

    threading.Thread(target=write, daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", *streamlit_args]
    sys.exit(cli.main(prog_name="streamlit"))


if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] == "--serve-watch":
    _serve_watch(sys.argv[2], sys.argv[3:])

# --- the bench (heavier imports below: the server wrapper above must start as light as `streamlit run`) -----

import argparse  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PAGES = (("Compare", "app_pages/compare.py", "compare"), ("Learning rate", "app_pages/lr_sweep.py", "lr-sweep"),
         ("Grid and search", "app_pages/grid.py", "grid"), ("runs panel fragment", None, "compare"))
_watch = {"file": None, "popen_time": None}


def watched_serve(script: str = "app.py", timeout: float = 90.0):
    """bench/harness/browser.py's ``serve``, with the server under ``--serve-watch`` (same flags, same readiness)."""
    from bench.harness import browser

    out = tempfile.mktemp(prefix="bench_lab_modules_", suffix=".json")
    _watch.update(file=out, popen_time=time.time())
    return browser.serve(script, timeout, launcher=[sys.executable, "-m", "bench.bench_lab", "--serve-watch", out])


def draw_page(digits: list, home: str) -> dict:
    """bench_browser.measure on the Draw page, with the server under the module watcher."""
    from bench import bench_browser
    from bench.harness import browser

    saved = browser.serve
    browser.serve = watched_serve
    try:
        r = bench_browser.measure("app.py", digits, "", bench_browser.PREDICTION, bench_browser.DRAW_DONE)
    finally:
        browser.serve = saved
    modules = json.loads(Path(_watch["file"]).read_text())
    r["modules"] = modules
    r["server_offset_s"] = modules["started"] - _watch["popen_time"]  # server's clock start after Popen
    return r


def start_cli_run(home: str, limit: int, epochs: int) -> tuple[subprocess.Popen, str]:
    """``python -m core run`` in a subprocess; returns once the run has trained its first batch."""
    from core.lab import runs

    env = dict(os.environ, VP_HOME=home, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "core", "run", "--model", "dnn", "--limit", str(limit), "--epochs", str(epochs),
           "--lab", "cli"]
    log = Path(tempfile.mktemp(prefix="bench_lab_run_", suffix=".log"))
    with log.open("w") as f:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=f)
    deadline = time.monotonic() + 300
    while not (found := re.search(r"\(([0-9a-f]{32})\) queued", log.read_text(errors="replace"))):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"python -m core run said: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)
    run_id = found.group(1)
    while runs.get(run_id).metrics.get("progress", 0) <= 0:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the run did not start training: {runs.get(run_id).status}")
        time.sleep(0.5)
    return proc, run_id


def stop_cli_run(proc: subprocess.Popen, run_id: str, home: str) -> str:
    env = dict(os.environ, VP_HOME=home, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "core", "cancel", run_id], cwd=ROOT, env=env, capture_output=True,
                   timeout=120)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    from core.lab import runs

    return runs.get(run_id).status


def modules_line(r: dict) -> str:
    canvas = r["startup_s"] - r["server_offset_s"]
    words = []
    for m in WATCHED:
        seen = r["modules"]["seen"].get(m)
        if seen is None:
            words.append(f"{m}: never imported")
        else:
            when = "before" if seen["at_s"] <= canvas else "after"
            chain = [f for f in seen["from"] if f.startswith(("app", "core/registry"))] + seen["from"][-1:]
            words.append(f"{m}: imported {seen['at_s']:.1f} s after server start ({when} the canvas, at "
                         f"{canvas:.1f} s), by {' -> '.join(chain) or 'streamlit'}")
    return "; ".join(words)


def browser_part(args, home: str) -> None:
    from core.data import unipen

    one_stroke = [r for r in unipen.load_unipen() if len(r["strokes"]) == 1]
    digits = one_stroke[:: max(len(one_stroke) // (args.draw_n + 1), 1)][: args.draw_n + 1]
    idle = draw_page(digits, home)
    lat = sorted(idle["latencies"])
    print(f"cold start to a drawable canvas (Draw page): {idle['startup_s']:.1f} s (target <= 10 s)", flush=True)
    print(f"Draw page server modules: {modules_line(idle)}", flush=True)
    print("  ... at the end of the Draw session: " + ", ".join(
        f"{m} {'loaded' if v else 'not loaded'}" for m, v in idle["modules"]["loaded"].items()), flush=True)
    proc, run_id = start_cli_run(home, args.draw_limit, args.draw_epochs)
    from core.lab import runs

    try:
        before = runs.get(run_id).metrics.get("progress", 0)
        busy = draw_page(digits, home)
        after = runs.get(run_id)
    finally:
        status = stop_cli_run(proc, run_id, home)
    trained = after.status == "RUNNING" and after.metrics.get("progress", 0) > before
    blat = sorted(busy["latencies"])
    print(f"Draw page pen-up to answer: idle median {statistics.median(lat) * 1000:.0f} ms (max "
          f"{lat[-1] * 1000:.0f}); while a run trains median {statistics.median(blat) * 1000:.0f} ms (max "
          f"{blat[-1] * 1000:.0f}); whole page drawn median {statistics.median(idle['complete']) * 1000:.0f} vs "
          f"{statistics.median(busy['complete']) * 1000:.0f} ms; {len(lat)} digits; server RSS {idle['rss_mb']:.0f} "
          f"vs {busy['rss_mb']:.0f} MB; start-up while training {busy['startup_s']:.1f} s", flush=True)
    print(f"Draw page server modules with a run store present (server started while the run trains): "
          f"{modules_line(busy)}", flush=True)
    print(f"  (the run trained throughout: {trained}; progress {before:.0%} -> "
          f"{after.metrics.get('progress', 0):.0%}; ended {status} after cancel)", flush=True)


class Trainer:
    """Keeps two engine runs training in one lab, launched from this process as the app's server does."""

    def __init__(self, lab: str, n: int, config):
        self.lab, self.n, self.config = lab, n, config
        self.ids: list[str] = []
        self.launched = 0

    def ensure(self) -> None:
        from core.lab import engine, runs

        self.ids = [i for i in self.ids if runs.get(i).status in runs.ACTIVE]
        while len(self.ids) < self.n:
            self.ids.append(engine.launch(self.config, self.lab).run_id)
            self.launched += 1
        deadline = time.monotonic() + 300
        while self.training() < self.n:  # past the first batch: TensorFlow and the data loaded
            if time.monotonic() > deadline:
                raise RuntimeError("the runs did not start training")
            time.sleep(0.2)

    def training(self) -> int:
        from core.lab import runs

        infos = [runs.get(i) for i in self.ids]
        return sum(r.status == "RUNNING" and r.metrics.get("progress", 0) > 0 for r in infos)

    def stop(self) -> None:
        from core.lab import engine, runs

        for i in self.ids:
            engine.cancel(i)
        for i in self.ids:
            runs.wait(i, timeout_s=60, poll_s=0.2)
        self.ids = []


def _panel(lab: str) -> None:  # the runs panel alone, as an AppTest script
    from app_pages.ui.run_panel import runs_panel

    runs_panel(lab)


def rerun_times(page: str | None, lab: str, n: int, trainer: Trainer | None) -> tuple[list[float], int]:
    from streamlit.testing.v1 import AppTest

    if page:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.run()
        at.switch_page(page)
    else:
        at = AppTest.from_function(_panel, kwargs={"lab": lab}, default_timeout=600)
    times, busy = [], 0
    for _ in range(n + 2):
        if trainer is not None:
            trainer.ensure()
        t = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - t) * 1000)
        assert not at.exception, at.exception
        if trainer is not None:
            busy += trainer.training() == trainer.n
    return times[2:], busy  # the first reruns fill the page's caches (models, scores)


def pages_part(args) -> None:
    # Setting AppTest's session state from this thread makes Streamlit warn; as in bench_pages, filter it out.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage())
    from core.training.train import TrainConfig

    config = TrainConfig(model="dnn", epochs=args.epochs, limit=args.limit, polish_epochs=0)
    results = {}
    for state in ("idle", "busy"):
        for name, page, lab in PAGES:
            trainer = Trainer(lab, 2, config) if state == "busy" else None
            try:
                times, busy = rerun_times(page, lab, args.n, trainer)
            finally:
                if trainer is not None:
                    trainer.stop()
            times.sort()
            results[(name, state)] = times
            extra = f"; {busy}/{len(times) + 2} reruns with both runs training, {trainer.launched} runs launched" \
                if trainer else ""
            print(f"  {name:20s} {state:4s}: median {statistics.median(times):.0f} ms, "
                  f"p90 {times[int(0.9 * (len(times) - 1))]:.0f} ms, max {times[-1]:.0f} ms{extra}", flush=True)
    for name, _, _ in PAGES:
        idle, busy = results[(name, "idle")], results[(name, "busy")]
        p90 = busy[int(0.9 * (len(busy) - 1))]
        print(f"{name:20s} rerun: idle median {statistics.median(idle):.0f} ms / p90 "
              f"{idle[int(0.9 * (len(idle) - 1))]:.0f} ms; two runs training median {statistics.median(busy):.0f} "
              f"ms / p90 {p90:.0f} ms ({'meets' if p90 < 150 else 'misses'} the 150 ms target)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20, help="timed reruns per page and state")
    parser.add_argument("--limit", type=int, default=20000, help="digits of the two runs beside the lab pages")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of the two runs beside the lab pages")
    parser.add_argument("--draw-n", type=int, default=10, help="digits drawn on the Draw page per state")
    parser.add_argument("--draw-limit", type=int, default=30000)
    parser.add_argument("--draw-epochs", type=int, default=20)
    parser.add_argument("--parts", type=lambda s: s.split(","), default=["browser", "pages"])
    parser.add_argument("--home", help="VP_HOME for the runs (default: a new temporary folder)")
    args = parser.parse_args()
    home = args.home or tempfile.mkdtemp(prefix="bench_home_lab_")
    os.environ["VP_HOME"] = home
    os.environ["VP_MAX_RUNS"] = "2"
    for key in ("MLFLOW_TRACKING_URI", "RAY_ADDRESS"):
        os.environ.pop(key, None)
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus; load average "
          f"{os.getloadavg()[0]:.2f}; VP_HOME={home}", flush=True)
    if "browser" in args.parts:
        browser_part(args, home)
    if "pages" in args.parts:
        pages_part(args)


if __name__ == "__main__":
    main()
