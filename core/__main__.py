"""Command line: ``python -m core predict|train|run|runs|cancel ...``.

``train`` trains in this process and writes a model and card to a folder;
``run`` does the same through the run engine (Ray, tracked in MLflow), as the
app's pages do, so a teacher can prepare a sweep headless and the app shows it.
``run``, ``runs`` and ``cancel`` write their JSON lines alone on stdout (anything
else goes to stderr), and a setting that names something unusable (a dead
``RAY_ADDRESS`` or tracking server, a read-only ``VP_HOME``) gets one ``error:``
line within seconds, before TensorFlow loads.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import shlex
import sys
from collections.abc import Callable, Iterator

_out = sys.stdout  # where the JSON lines go; see _json_stdout
STORE_COMMANDS = ("run", "runs", "cancel")


def _emit(obj: dict) -> None:
    print(json.dumps(obj), file=_out, flush=True)


@contextlib.contextmanager
def _json_stdout() -> Iterator[None]:
    """Keep stdout for the JSON lines alone: whatever else writes to it meanwhile (MLflow's "View run" lines,
    Ray's "(raylet)" lines, the processes this one starts) goes to stderr."""
    global _out
    sys.stdout.flush()
    saved = os.dup(1)
    _out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        _out.close()
        _out = sys.stdout
        os.dup2(saved, 1)
        os.close(saved)


def _preflight(command: str) -> None:
    """Look at the settings ``command`` needs in seconds, before TensorFlow, Ray or MLflow loads (``Unavailable``)."""
    from core.base import settings
    from core.lab import reach

    if command == "run" or not settings.MLFLOW_TRACKING_URI.get():
        reach.check_home()
    reach.check_store(reach.store_uri())
    if command == "run" and settings.RAY_ADDRESS.get():
        reach.check_cluster(settings.RAY_ADDRESS.get())


def _predict(args: argparse.Namespace) -> int:
    from core.data import datasets
    from core.images import preprocess
    from core.nets import registry

    name = args.model or registry.best_model()
    if name.startswith(CLASSES_PREFIX):  # your own classes: a trained head on a frozen network's features
        from core import own_classes

        # The project and its head are looked up before anything loads TensorFlow (seconds), so a name
        # that does not exist is answered at once.
        heads = own_classes.heads_of(name[len(CLASSES_PREFIX):])
        if not heads:
            raise own_classes.ProjectError(f"The project {name[len(CLASSES_PREFIX):]!r} has no trained head; "
                                           "teach it with: python -m core classes train DIR --name NAME")
        head = heads[0]
        read = functools.partial(own_classes.predict, head, head.model_name)
        dataset, label = "classes", head.class_names.__getitem__
    else:
        from core.nets import inference

        predictor = inference.Predictor.load(name)

        def read(image):
            return predictor.predict(image)[0]

        dataset = registry.get(name).dataset
        # Digits are labelled 0-9 as numbers; letters by name (alpha, beta, gamma).
        label = int if dataset == "mnist" else datasets.get_dataset(dataset).classes.__getitem__
    status = 0
    for path in args.images:
        try:
            result = preprocess.to_mnist(preprocess.read_image_file(path))
            if result.empty:
                what = {"mnist": "digit", "classes": "drawing"}.get(dataset, "letter")
                raise preprocess.InputError(f"no {what} found in the image")
            probs = read(result.image)
        except (OSError, preprocess.InputError) as e:
            print(f"error: {path}: {e}", file=sys.stderr)
            status = 1
            continue
        except Exception as e:  # noqa: BLE001 - one file the code cannot handle must not stop the others
            print(f"error: {path}: could not be read ({type(e).__name__}: {e})", file=sys.stderr)
            status = 1
            continue
        print(json.dumps({"file": path, "label": label(int(probs.argmax())),
                          "probs": [round(float(p), 6) for p in probs], "model": name}), flush=True)
    return status


def _train(args: argparse.Namespace) -> int:
    from core.base import device

    device.configure_threads(None, None)
    from core.base import paths
    from core.training.train import TrainConfig, train

    out = args.out or str(paths.trained_dir())
    config = TrainConfig(model=args.model, epochs=args.epochs, batch_size=args.batch_size,
                         learning_rate=args.lr, limit=args.limit, augment=not args.no_augment,
                         writing_styles=not args.no_augment, polish_epochs=args.polish_epochs,
                         dropout=args.dropout, kernel_size=args.kernel_size, precision=args.precision,
                         val_size=args.val_size,
                         out_dir=out, checkpoint_dir=args.checkpoint_dir,
                         command="python -m core " + " ".join(sys.argv[1:]))
    print(f"training {config.model} on {config.dataset}; writing to {out}", file=sys.stderr, flush=True)

    def progress(event: dict) -> None:
        if event["kind"] == "resumed":
            print(f"resuming from the checkpoint after epoch {event['epoch']}", flush=True)
        if event["kind"] == "epoch":
            logs = " ".join(f"{k}={v:.4f}" for k, v in event["logs"].items())
            print(f"epoch {event['epoch']}/{event['epochs']} {logs} ({event['elapsed_s']:.0f}s)", flush=True)

    card = train(config, progress)
    print(json.dumps({k: card[k] for k in ("model", "test_accuracy", "macro_f1", "params",
                                            "epochs_run", "train_seconds", "device")}))
    return 0


def _browser_models(args: argparse.Namespace) -> int:
    """Export the Draw page's networks to ONNX for the browser, one JSON line (the card) each."""
    from pathlib import Path

    from core.nets import browser
    from core.nets.registry import DRAW_MODELS, RUN_PREFIX

    unknown = sorted(n for n in args.models if n not in DRAW_MODELS and not n.startswith(RUN_PREFIX))
    if unknown:
        raise ValueError(f"no Draw network named {', '.join(unknown)}; choose from {', '.join(DRAW_MODELS)}, or a "
                         f"network trained in the lab ({RUN_PREFIX}<id>, see: python -m core runs)")
    if any(n.startswith(RUN_PREFIX) for n in args.models):
        import core.lab.runs  # noqa: F401 - reads run:<id> names from the run store
    for name in args.models or DRAW_MODELS:
        print(json.dumps(browser.export(name, out_dir=Path(args.out) if args.out else None)), flush=True)
    return 0


def _answers(args: argparse.Namespace) -> int:
    """Score shipped models on their test sets and ship the answers beside their cards, one JSON line each."""
    from core.lab import evaluation
    from core.nets import registry

    shipped = registry.available(dataset=None)
    unknown = sorted(set(args.models) - set(shipped))
    if unknown:
        raise ValueError(f"no shipped model named {', '.join(unknown)}; choose from {', '.join(shipped)}")
    for name in args.models or shipped:
        path = evaluation.ship_answers(name)
        print(json.dumps({"model": name, "answers": str(path), "bytes": path.stat().st_size}), flush=True)
    return 0


def _previews(args: argparse.Namespace) -> int:
    """Ship the overviews of the data sets that are slow to read whole, one JSON line each."""
    from core.data import previews

    unknown = sorted(set(args.datasets) - set(previews.SHIPPED))
    if unknown:
        raise ValueError(f"no preview is shipped for {', '.join(unknown)}; choose from {', '.join(previews.SHIPPED)}")
    for name in args.datasets or previews.SHIPPED:
        path = previews.ship(name)
        print(json.dumps({"dataset": name, "preview": str(path), "bytes": path.stat().st_size}), flush=True)
    return 0


def _indexes(args: argparse.Namespace) -> int:
    """Compute the Explain page's nearest-digit indexes now (at install), one JSON line each."""
    from core.explain import neighbours

    unknown = sorted(set(args.models) - set(neighbours.AHEAD))
    if unknown:
        raise ValueError(f"no nearest-digit index for {', '.join(unknown)}; choose from {', '.join(neighbours.AHEAD)}")
    for built in neighbours.build_ahead(tuple(args.models) or neighbours.AHEAD):
        print(json.dumps(built), flush=True)
    return 0


def _transfer(args: argparse.Namespace) -> int:
    from core.base import device

    device.configure_threads(None, None)
    from core.base import paths
    from core.training.letter_transfer import TransferConfig, train_transfer

    out = args.out or str(paths.trained_dir())
    config = TransferConfig(source=args.source, mode=args.mode, epochs=args.epochs, learning_rate=args.lr,
                            augment=False if args.no_augment else None, hands=args.hands, out_dir=out,
                            command="python -m core " + " ".join(sys.argv[1:]))
    print(f"re-using {config.source} for {config.target} ({config.mode}); writing {config.model} to {out}",
          file=sys.stderr, flush=True)
    card = train_transfer(config)
    print(json.dumps({k: card[k] for k in ("model", "source", "mode", "test_accuracy", "macro_f1",
                                            "transfer_params", "epochs_run", "train_seconds", "device")}))
    return 0


def _run(args: argparse.Namespace) -> int:
    """Launch one run on the engine (Ray + MLflow), wait for it, print one JSON line."""
    from core.lab import engine, runs
    from core.nets import registry

    # TensorFlow loads in the run's worker only (5-10 s, longer on a busy machine): a missing data set or a bad
    # setting is said within a second, and a launch hands the run over at once.
    engine.check_data(registry.get(args.model).dataset)
    from core.training.config import TrainConfig

    config = TrainConfig(model=args.model, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
                         limit=args.limit, dropout=args.dropout, kernel_size=args.kernel_size,
                         polish_epochs=args.polish_epochs, augment=not args.no_augment,
                         writing_styles=not args.no_augment, val_size=args.val_size,
                         classes=tuple(args.classes.split(",")) if args.classes else None, side=args.side)
    if args.dataset and args.dataset != config.dataset:
        raise ValueError(f"{args.model} learns {config.dataset}, not {args.dataset}")
    run = engine.launch(config, args.lab)
    print(f"run {run.number} ({run.run_id}) queued on the {engine.cluster_kind()} cluster; "
          f"store: {runs.tracking_uri()}", file=sys.stderr, flush=True)
    try:
        run = runs.wait(run.run_id, poll_s=0.5)
    except KeyboardInterrupt:
        engine.cancel(run.run_id)
        run = runs.wait(run.run_id, timeout_s=10, poll_s=0.2)
    _emit(run.as_json())
    if run.status == "FAILED":  # its first line: the reason (a worker's traceback stays in the store's vp.error)
        reason = (run.error or "").strip().splitlines()[:1]
        print(f"error: run {run.number} failed: {''.join(reason)}".rstrip(), file=sys.stderr)
    return 0 if run.status == "FINISHED" else 1


def _runs(args: argparse.Namespace) -> int:
    from core.lab import runs

    runs.reconcile()
    for run in runs.search(lab=args.lab, status=[args.status] if args.status else None, max_results=args.limit):
        _emit(run.as_json())
    return 0


def _cancel(args: argparse.Namespace) -> int:
    from core.lab import engine, runs

    runs.reconcile()  # a run whose launching app has died is FAILED, not waited for
    state = engine.cancel(args.run_id)
    run = runs.wait(args.run_id, timeout_s=args.wait, poll_s=0.2) if state == "CANCELLING" else runs.get(args.run_id)
    _emit({"run_id": run.run_id, "status": run.status})
    return 0 if run.status == "KILLED" else 1


CLASSES_PREFIX = "classes:"  # predict --model classes:NAME reads with your own classes' project NAME


def _reader(names: list[str]) -> Callable[[str], str]:
    """An argparse type: one of ``names``, or ``classes:NAME``."""

    def parse(text: str) -> str:
        if text in names or (text.startswith(CLASSES_PREFIX) and text[len(CLASSES_PREFIX):].strip()):
            return text
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from {', '.join(names)}, "
                                         f"or {CLASSES_PREFIX}NAME)")

    return parse


def _classes(args: argparse.Namespace) -> int:
    """Your own classes from the command line: teach a project from class folders, list, delete."""
    from core import own_classes

    if args.action == "train":
        _emit(own_classes.teach(args.source, args.name, args.model or own_classes.DEFAULT_MODEL))
    elif args.action == "list":
        damaged = 0
        for name in own_classes.list_projects():
            try:
                heads = own_classes.heads_of(name)
                _emit({"name": name, "classes": own_classes.class_names(name), "examples": own_classes.counts(name),
                       "trained_on": [h.model_name for h in heads]})
            except own_classes.ProjectError as e:  # one damaged project must not hide the others
                _emit({"name": name, "damaged": f"{e} (python -m core classes delete {shlex.quote(name)}, or "
                                                f"teach it again: python -m core classes train DIR --name "
                                                f"{shlex.quote(name)})"})
                damaged += 1
        return 1 if damaged else 0
    else:
        own_classes.delete_project(args.name)
        _emit({"deleted": args.name})
    return 0


def _class(args: argparse.Namespace) -> int:
    """Class mode's classes from the command line: list, export as a zip, delete."""
    from core.classroom import export, store

    if args.action == "list":
        for info in store.list_classes():
            _emit({"code": info.code, "drawings": info.drawings, "students": info.students,
                   "activity": info.activity, "labels": list(info.labels), "started": export.iso_time(info.created_at)})
    elif args.action == "export":
        _emit(export.export_class(args.code, args.zip) | {"zip": args.zip})
    else:
        from core.classroom import training

        training.delete_class(args.code)  # with its training runs
        _emit({"deleted": args.code})
    return 0


def _at_least(low: int) -> Callable[[str], int]:
    """An argparse type for whole numbers >= ``low``, so a bad value gets a usage message, not a traceback."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
        return value
    return parse


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in STORE_COMMANDS and not {"-h", "--help"} & set(argv):
        from core.lab.reach import Unavailable

        try:
            _preflight(argv[0])
        except Unavailable as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    from core.nets.registry import DRAW_MODELS, FEATURE_MODELS, REGISTRY, SOURCE_DATASETS

    parser = argparse.ArgumentParser(prog="python -m core", description="Vision Playground command line")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("predict", help="read digits from image files, one JSON line per file")
    readers = sorted(n for n, s in REGISTRY.items() if s.dataset in ("mnist", "greek", "handwriting"))
    p.add_argument("--model", type=_reader(readers), metavar="{" + ",".join(readers) + f",{CLASSES_PREFIX}NAME}}",
                   help="default: the best shipped digit model; greek reads alpha, beta, gamma; handwriting "
                        "reads digits and lowercase letters; "
                        f"{CLASSES_PREFIX}NAME your own classes (a project taught with 'classes train')")
    p.add_argument("images", nargs="+")
    p.set_defaults(func=_predict)
    t = sub.add_parser("train", help="train a model on its data set and write it with its card")
    t.add_argument("--model", choices=sorted(REGISTRY), required=True)
    t.add_argument("--epochs", type=_at_least(1), default=20)
    t.add_argument("--batch-size", type=_at_least(1), default=128)
    t.add_argument("--lr", type=float, help="learning rate (default: Adam 0.001 for digits, SGD 0.1 for photos)")
    t.add_argument("--dropout", type=float, help="dropout rate (default: the architecture's own)")
    t.add_argument("--kernel-size", type=_at_least(1), help="convolution kernel size (default: the architecture's)")
    t.add_argument("--precision", default="auto",
                   help="auto (mixed_float16 on a GPU, float32 on a CPU), float32, mixed_bfloat16, mixed_float16")
    t.add_argument("--checkpoint-dir", help="back up every epoch here; a killed run started again resumes")
    t.add_argument("--limit", type=_at_least(1), help="train on the first N images only")
    t.add_argument("--val-size", type=_at_least(1), default=5000, help="training images held out for validation")
    t.add_argument("--no-augment", action="store_true")
    t.add_argument("--polish-epochs", type=_at_least(0), default=3,
                   help="epochs on undistorted digits at a small learning rate after the augmented ones")
    t.add_argument("--out", help="output folder (default: $VP_HOME/trained; the shipped models are made "
                                 "by ./train_all.sh, which writes to assets/models)")
    t.set_defaults(func=_train)
    tr = sub.add_parser("transfer", help="re-use a drawing network for Greek letters (report 002, part C)")
    tr.add_argument("--source", choices=[n for n, s in REGISTRY.items() if s.dataset in SOURCE_DATASETS],
                    default="net002")
    tr.add_argument("--mode", choices=["frozen", "finetune", "scratch"], default="frozen",
                    help="frozen: train only a new head; finetune: retrain everything; scratch: random start")
    tr.add_argument("--epochs", type=_at_least(1), default=30)
    tr.add_argument("--lr", type=float, help="learning rate (default: 0.01 for a frozen base, else 0.001)")
    tr.add_argument("--no-augment", action="store_true", help="never distort the letters (default: distort "
                                                                "them unless the base is frozen)")
    tr.add_argument("--hands", action="store_true", help="also learn from Greek letters in many hands (fonts and "
                                                          "template strokes, drawn and photographed), validated "
                                                          "on held-out hands")
    tr.add_argument("--out", help="output folder (default: $VP_HOME/trained; ./train_all.sh writes the shipped one)")
    tr.set_defaults(func=_transfer)
    b = sub.add_parser("browser-models", help="export the Draw page's networks to ONNX (static/models) for the "
                                               "live reading in the browser; one JSON line each")
    b.add_argument("models", nargs="*", metavar="MODEL",
                   help=f"default: all of {', '.join(DRAW_MODELS)}; run:<id> exports a network trained in the lab")
    b.add_argument("--out", help="output folder (default: static/models)")
    b.set_defaults(func=_browser_models)
    a = sub.add_parser("answers", help="score shipped models on their test sets and ship the answers beside their "
                                        "cards, so the Compare page shows them at once; one JSON line each")
    a.add_argument("models", nargs="*", metavar="MODEL", help="default: every shipped model")
    a.set_defaults(func=_answers)
    pv = sub.add_parser("previews", help="ship a few images a class and the class counts of the data sets that "
                                          "are slow to read whole, for the Data sets page; one JSON line each")
    pv.add_argument("datasets", nargs="*", metavar="DATASET", help="default: cifar10 and handwriting")
    pv.set_defaults(func=_previews)
    ix = sub.add_parser("indexes", help="compute the Explain page's nearest-digit indexes (features of the 60,000 "
                                         "MNIST training digits) of the shipped networks now, so no first visit "
                                         "waits for them; one JSON line each")
    ix.add_argument("models", nargs="*", metavar="MODEL", help="default: every network the Explain page offers")
    ix.set_defaults(func=_indexes)
    r = sub.add_parser("run", help="launch a run on the engine (Ray, tracked in MLflow), wait, print JSON")
    r.add_argument("--model", choices=sorted(REGISTRY), required=True)
    r.add_argument("--dataset", choices=["mnist", "cifar10", "tiny-imagenet"],
                   help="checked against the model's data set")
    r.add_argument("--epochs", type=int, default=5)
    r.add_argument("--limit", type=int, help="train on the first N images only")
    r.add_argument("--lr", type=float, help="learning rate (default: the recipe's)")
    r.add_argument("--batch-size", type=int, default=128)
    r.add_argument("--dropout", type=float)
    r.add_argument("--kernel-size", type=int)
    r.add_argument("--polish-epochs", type=int, default=0)
    r.add_argument("--val-size", type=int, default=5000, help="training images held out to validate each epoch")
    r.add_argument("--no-augment", action="store_true")
    r.add_argument("--classes", help="tiny-ImageNet only: the classes to learn, wnids separated by commas "
                                     "(default: all)")
    r.add_argument("--side", type=int, choices=(32, 64), help="tiny-ImageNet only: the photos' side (default 32)")
    r.add_argument("--lab", default="cli", help="the lab the run is filed under (compare, lr-sweep, grid, ...)")
    r.set_defaults(func=_run)
    cl = sub.add_parser("classes", help="your own classes: teach a project from folders of pictures, list, delete")
    actions = cl.add_subparsers(dest="action", required=True)
    teach = actions.add_parser("train", help="create or replace project NAME from DIR_OR_ZIP (one folder of "
                                             "pictures per class) and train its head; prints one JSON line")
    teach.add_argument("source", metavar="DIR_OR_ZIP")
    teach.add_argument("--name", required=True)
    teach.add_argument("--model", choices=FEATURE_MODELS,
                       help=f"the frozen network whose features the head reads (default: {FEATURE_MODELS[0]})")
    actions.add_parser("list", help="one JSON line per project")
    gone = actions.add_parser("delete", help="delete project NAME")
    gone.add_argument("name")
    cl.set_defaults(func=_classes)
    k = sub.add_parser("class", help="class mode's classes: list, export as a zip, delete; JSON lines")
    class_actions = k.add_subparsers(dest="action", required=True)
    class_actions.add_parser("list", help="one JSON line per class: its code, drawings, students")
    ex = class_actions.add_parser("export", help="write class CODE to ZIP: a folder of PNGs per label, the strokes "
                                                 "as JSON lines, a data card (no nicknames)")
    ex.add_argument("code")
    ex.add_argument("zip")
    rm = class_actions.add_parser("delete", help="delete class CODE and everything its students drew")
    rm.add_argument("code")
    k.set_defaults(func=_class)
    ls = sub.add_parser("runs", help="list runs, newest first, one JSON line each")
    ls.add_argument("--lab")
    ls.add_argument("--status", choices=["SCHEDULED", "RUNNING", "FINISHED", "KILLED", "FAILED"])
    ls.add_argument("--limit", type=int, default=100)
    ls.set_defaults(func=_runs)
    c = sub.add_parser("cancel", help="cancel a run started anywhere (the app, another shell)")
    c.add_argument("run_id")
    c.add_argument("--wait", type=float, default=10, help="seconds to wait for it to stop")
    c.set_defaults(func=_cancel)
    args = parser.parse_args(argv)
    try:
        with _json_stdout() if args.command in STORE_COMMANDS else contextlib.nullcontext():
            return args.func(args)
    except Exception as e:  # noqa: BLE001 - the CLI's contract: a message, not a traceback
        from core.data.datasets import DataError  # light; the project and model errors are a ValueError and a
        from core.lab.reach import Unavailable  # LookupError, so saying them loads no scikit-learn or SciPy

        if isinstance(e, (DataError, ValueError, LookupError, Unavailable, OSError)):
            print(f"error: {e}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
