"""What the run engine (Ray + MLflow) costs: throughput against a bare ``model.fit``, launch latency, memory.

Usage: VP_DATA_DIR=../shared/data python -m bench.bench_engine [--limit 20000] [--models net002,convnet]
       (smoke test: --limit 2000 --models net002 --mem-seconds 3)

Each part runs in its own fresh Python process, with a temporary ``VP_HOME`` (never ~/.vision-playground),
so every engine part starts its own private Ray cluster:

- throughput: the same model and data trained (a) through ``engine.launch`` with ``VP_MAX_RUNS=1`` (the run
  gets both cores) and (b) as a bare ``model.fit`` on 2 TensorFlow threads. Both use the fit split
  ``core.training.train`` makes (``limit`` training digits, a validation split of ``max(limit // 5, 100)`` digits),
  batch size 128, Adam, no augmentation. The figure is training images per second of the median epoch after
  the first (epoch 1 includes tracing): ``limit / epoch seconds``, where an epoch's seconds run from
  ``on_epoch_begin`` to ``on_epoch_end`` and so include that epoch's validation pass and the start of its data
  in both cases. The median, not one epoch: with tf.data's autotuner on (as in a bare ``fit`` of arrays),
  about half the epochs start with up to 1.2 s of idle waiting. The engine's figure is its own
  ``epoch_seconds`` metric; the bare fit runs at the worker's nice 10 (``--bare-nice``) so both get the same
  share of a CPU that other processes also use. The engine also pays for what it adds inside the epoch: the
  tf.data pipeline (shuffle, uint8 to float32 on the fly) instead of float32 arrays, the progress callback
  (an MLflow write at most every second and a cancel check every 0.5 s), ReduceLROnPlateau and EarlyStopping.
  Not included on either side: process and Ray start-up, data loading, model building, the untrained model's
  test score, epoch 1 and the final test evaluation.
- launch: from just before ``engine.launch()`` to the first time ``runs.get(run_id).metrics['progress'] > 0``,
  cold (fresh process, Ray not started) and warm (a second launch in the same process after the first ended).
- memory: while two runs train at once (``VP_MAX_RUNS=2``), the summed RSS of the launching process and all the
  Ray processes it started (its descendants, plus any ``ray::`` process started since with this bench's
  ``VP_HOME``), and of the two run workers alone. RSS counts shared pages once per process; PSS (shared pages
  split between their users) is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
RESULT = "BENCH_RESULT "


def _config(model: str, limit: int, epochs: int, batch_size: int = 128):
    from core.training.train import TrainConfig

    return TrainConfig(model=model, epochs=epochs, limit=limit, augment=False, writing_styles=False,
                       polish_epochs=0, batch_size=batch_size)


def _emit(result: dict) -> None:
    print(RESULT + json.dumps(result), flush=True)


# --- the parts, each run in a fresh process -----------------------------------------------------------------


def part_engine(args) -> None:
    """One run through the engine; its per-epoch seconds as the engine measured them."""
    from core.lab import engine, runs

    run = engine.launch(_config(args.model, args.limit, args.epochs, args.batch_size), "cli")
    done = runs.wait(run.run_id, timeout_s=1800, poll_s=0.5)
    if done.status != "FINISHED":
        raise SystemExit(f"engine run ended {done.status}: {done.tags.get('vp.error')}")
    curves = runs.curves(run.run_id, ("epoch_seconds", "val_accuracy"))
    _emit({"epoch_seconds": [v for _, v in curves["epoch_seconds"]],
           "val_accuracy": curves["val_accuracy"][-1][1], "device": done.tags.get("vp.device"),
           "threads": os.cpu_count() // engine.max_runs()})


def part_bare(args) -> None:
    """The same model on the same digits with a bare model.fit: float32 arrays, 2 threads, validation each epoch."""
    if args.bare_nice:  # the engine's worker runs at nice 10: give the bare fit the same share of a busy CPU
        os.nice(args.bare_nice)
    from core.base import device

    device.configure_threads(intra_op=args.threads, inter_op=args.threads)  # as the engine's worker does
    import keras

    from core.nets import registry
    from core.training import kit, train

    config = _config(args.model, args.limit, args.epochs, args.batch_size)
    keras.utils.set_random_seed(config.seed)
    (x_fit, y_fit), (x_val, y_val), _ = train._split(config)  # the engine's split: same digits, same sizes
    x_fit, x_val = kit.to_float(x_fit), kit.to_float(x_val)
    model = registry.build(config.model)
    model.compile(optimizer=keras.optimizers.Adam(config.lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    seconds: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):  # after the epoch's validation pass, as in the engine
            seconds.append(time.perf_counter() - self.t)

    history = model.fit(x_fit, y_fit.astype("int32"), batch_size=config.batch_size, epochs=config.epochs,
                        validation_data=(x_val, y_val.astype("int32")), shuffle=True, verbose=0, callbacks=[Timer()])
    _emit({"epoch_seconds": seconds, "val_accuracy": history.history["val_accuracy"][-1], "n_fit": len(x_fit),
           "n_val": len(x_val)})


def _first_progress(run_id: str, t0: float, timeout_s: float = 600) -> dict:
    from core.lab import runs

    running = None
    while time.perf_counter() - t0 < timeout_s:
        run = runs.get(run_id)
        if running is None and run.status != "SCHEDULED":
            running = time.perf_counter() - t0
        if run.metrics.get("progress", 0) > 0:
            return {"running_s": running, "progress_s": time.perf_counter() - t0}
        if run.status in runs.TERMINAL:
            raise SystemExit(f"run ended {run.status} before any progress: {run.tags.get('vp.error')}")
        time.sleep(0.05)
    raise SystemExit("no progress in time")


def part_launch(args) -> None:
    """Cold (this fresh process; Ray not started) then warm (a second launch after the first ended)."""
    import ray

    from core.lab import engine, runs

    config = _config(args.launch_model, args.launch_limit, 1, args.batch_size)
    out = {}
    for name in ("cold", "warm"):
        assert (name == "cold") != ray.is_initialized()
        t0 = time.perf_counter()
        run = engine.launch(config, "cli")
        returned = time.perf_counter() - t0
        out[name] = {"launch_returned_s": returned, **_first_progress(run.run_id, t0)}
        done = runs.wait(run.run_id, timeout_s=600, poll_s=0.2)
        if done.status != "FINISHED":
            raise SystemExit(f"run ended {done.status}: {done.tags.get('vp.error')}")
    _emit(out)


def _ours(started: float, home: str) -> dict:
    """This process, its descendants, and ray:: processes started since ``started`` for this VP_HOME."""
    import psutil

    me = psutil.Process()
    procs = {p.pid: p for p in [me, *me.children(recursive=True)]}
    for p in psutil.process_iter(["pid", "cmdline", "create_time"]):
        try:
            if p.pid in procs or p.info["create_time"] < started:
                continue
            if "ray::" in " ".join(p.info["cmdline"] or []) and p.environ().get("VP_HOME") == home:
                procs[p.pid] = p
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return procs


def _memory(procs: dict, pids) -> tuple[float, float]:
    import psutil

    rss = pss = 0
    for pid in pids:
        try:
            info = procs[pid].memory_full_info()
            rss, pss = rss + info.rss, pss + getattr(info, "pss", info.rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied, KeyError):
            continue
    return rss / 2**20, pss / 2**20


def part_memory(args) -> None:
    """Two runs at once; sample the memory of everything this process started while both train."""
    import psutil

    from core.lab import engine, runs

    started = psutil.Process().create_time() - 1
    home = os.environ["VP_HOME"]
    models = (args.models * 2)[:2]
    ids = [engine.launch(_config(m, args.limit, args.mem_epochs, args.batch_size), "cli").run_id for m in models]
    deadline = time.monotonic() + 600
    while True:  # both RUNNING and past their first batch, so TensorFlow and the data are loaded
        infos = [runs.get(i) for i in ids]
        if all(r.status == "RUNNING" and r.metrics.get("progress", 0) > 0 for r in infos):
            break
        if any(r.status in runs.TERMINAL for r in infos) or time.monotonic() > deadline:
            raise SystemExit(f"runs did not train together: {[r.status for r in infos]}")
        time.sleep(0.2)
    workers = [int(r.tags["vp.worker"].rsplit(":", 1)[1]) for r in infos]
    samples = []
    end = time.monotonic() + args.mem_seconds
    while time.monotonic() < end and all(runs.get(i).status == "RUNNING" for i in ids):
        procs = _ours(started, home)
        total = _memory(procs, procs)
        alone = _memory(procs, workers)
        samples.append((total, alone, len(procs)))
        time.sleep(0.5)
    for i in ids:
        engine.cancel(i)
    for i in ids:
        runs.wait(i, timeout_s=60, poll_s=0.2)
    if not samples:
        raise SystemExit("a run ended before memory could be sampled")
    peak = max(samples, key=lambda s: s[0][0])
    _emit({"samples": len(samples), "processes": peak[2], "total_rss_mb": peak[0][0], "total_pss_mb": peak[0][1],
           "workers_rss_mb": max(s[1][0] for s in samples), "workers_pss_mb": max(s[1][1] for s in samples),
           "total_rss_median_mb": statistics.median(s[0][0] for s in samples), "models": models})


PARTS = {"engine": part_engine, "bare": part_bare, "launch": part_launch, "memory": part_memory}


# --- the driver ---------------------------------------------------------------------------------------------


def run_part(part: str, args, home: str, max_runs: int, **extra) -> dict:
    cmd = [sys.executable, __file__, "--part", part, "--limit", str(args.limit), "--epochs", str(args.epochs),
           "--batch-size", str(args.batch_size), "--launch-model", args.launch_model,
           "--launch-limit", str(args.launch_limit), "--mem-epochs", str(args.mem_epochs),
           "--mem-seconds", str(args.mem_seconds), "--models", ",".join(args.models),
           "--threads", str(args.threads), "--bare-nice", str(args.bare_nice)]
    for key, value in extra.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    env = dict(os.environ, VP_HOME=home, VP_MAX_RUNS=str(max_runs), PYTHONPATH=str(ROOT))
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("RAY_ADDRESS", None)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT):])
    raise RuntimeError(f"part {part} {extra} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n"
                       f"{proc.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=lambda s: s.split(","), default=["net002", "convnet"])
    parser.add_argument("--limit", type=int, default=20000, help="training digits")
    parser.add_argument("--epochs", type=int, default=6,
                        help="epochs of the throughput runs (the median of all but the first is timed)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2, help="TensorFlow threads of the bare fit")
    parser.add_argument("--bare-nice", type=int, default=10,
                        help="niceness of the bare fit (the engine's worker takes nice 10; 0: bare fit not niced)")
    parser.add_argument("--repeat", type=int, default=1, help="engine/bare pairs per model, alternated")
    parser.add_argument("--launch-model", default="dnn")
    parser.add_argument("--launch-limit", type=int, default=2000)
    parser.add_argument("--mem-epochs", type=int, default=3)
    parser.add_argument("--mem-seconds", type=float, default=10.0, help="how long to sample memory")
    parser.add_argument("--parts", type=lambda s: s.split(","), default=["launch", "throughput", "memory"])
    parser.add_argument("--part", choices=list(PARTS), help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--home", help="VP_HOME for the runs (default: a new temporary folder)")
    args = parser.parse_args()
    if args.part:
        PARTS[args.part](args)
        return
    home = args.home or tempfile.mkdtemp(prefix="bench_home_engine_")
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus, no GPU visible to this bench; "
          f"load average {os.getloadavg()[0]:.2f}; VP_HOME={home}", flush=True)
    if "launch" in args.parts:
        r = run_part("launch", args, home, max_runs=2)
        for name in ("cold", "warm"):
            x = r[name]
            print(f"launch to first progress ({name}, {args.launch_model}): {x['progress_s']:.1f} s "
                  f"(launch() returned after {x['launch_returned_s']:.2f} s, RUNNING after {x['running_s']:.1f} s)",
                  flush=True)
    if "throughput" in args.parts:
        for model in args.models:
            eng, bare = [], []
            for _ in range(args.repeat):
                e = run_part("engine", args, home, max_runs=1, model=model)
                b = run_part("bare", args, home, max_runs=1, model=model)
                eng.append(args.limit / statistics.median(e["epoch_seconds"][1:]))
                bare.append(b["n_fit"] / statistics.median(b["epoch_seconds"][1:]))
            e_ips, b_ips = statistics.median(eng), statistics.median(bare)
            print(f"{model:8s} engine throughput: {e_ips:.0f} img/s vs bare fit {b_ips:.0f} img/s = "
                  f"{e_ips / b_ips:.0%} (median of epochs 2-{args.epochs} of {args.limit} digits + {b['n_val']} "
                  f"validation, "
                  f"batch {args.batch_size}, {e['threads']} threads, bare fit at nice {args.bare_nice}; "
                  f"val acc {e['val_accuracy']:.3f} vs "
                  f"{b['val_accuracy']:.3f}; each of {args.repeat}: engine "
                  f"{', '.join(f'{x:.0f}' for x in eng)}, bare {', '.join(f'{x:.0f}' for x in bare)})", flush=True)
    if "memory" in args.parts:
        m = run_part("memory", args, home, max_runs=2)
        print(f"memory with two runs training ({' + '.join(m['models'])}): launching process + Ray "
              f"({m['processes']} processes) {m['total_rss_mb']:.0f} MB RSS ({m['total_pss_mb']:.0f} MB PSS), "
              f"of which the two workers {m['workers_rss_mb']:.0f} MB RSS ({m['workers_pss_mb']:.0f} MB PSS); "
              f"peak of {m['samples']} samples, median total {m['total_rss_median_mb']:.0f} MB RSS", flush=True)


if __name__ == "__main__":
    main()
