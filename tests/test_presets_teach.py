"""What the lab's quick runs teach a class: each Draw network trained as the pages launch it by default.

Report 004's lesson: the ConvNet and the ResNet read MNIST better than the DNN, at every learning rate from
0.01 to 0.0001. The quick preset (the Learning rate page's default, and Compare's "Train another") must show
the same table in minutes on a laptop CPU. Before the quick preset was re-chosen, the ConvNet and the ResNet
read 11% of the test digits at lr 0.001, and 72-89% at 0.01 and 0.0001.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

from core.lab import presets
from core.training.train import TrainConfig, train
from tests.pages import open_page

MODELS = ("dnn", "convnet", "resnet")
RATES = (0.01, 0.001, 0.0001)  # report 004's working rates (0.1 is there to fail)
FLOOR = {"dnn": 0.88, "convnet": 0.95, "resnet": 0.95}  # of the 10,000 test digits


def test_the_learning_rate_page_sweeps_the_quick_preset():
    configs = presets.lr_sweep(MODELS, "quick")
    assert {(c.model, c.lr) for c in configs} == {(m, lr) for m in MODELS for lr in presets.LEARNING_RATES}
    quick = presets.preset("quick")
    for config in configs:
        assert {k: getattr(config, k) for k in quick} == quick


@pytest.mark.slow
def test_compare_trains_another_with_the_quick_preset_by_default(fake_engine):
    at = open_page("compare")
    button = next(b for b in at.button if b.label == "Launch")  # the form's submit button
    button.click().run()
    assert len(fake_engine) == 1, [e.value for e in at.error]
    run = fake_engine[0]
    wanted = TrainConfig(model=run.model, learning_rate=0.001, **presets.preset("quick")).params()
    assert {key: run.params[key] for key in presets.preset("quick")} == {
        key: str(wanted[key]) for key in presets.preset("quick")}
    assert float(run.params["learning_rate"]) == 0.001


def _test_accuracy(config: TrainConfig) -> float:
    from core.base import device

    # As the engine's worker trains (core.lab.engine.execute: Ray gives a one-CPU task OMP_NUM_THREADS=1), so the
    # table is the one the page's sweep makes; two such runs side by side cost about the CPU of two at
    # TensorFlow's default threads (bench.bench_train_cpu, docs/benchmarks.md).
    device.configure_threads(intra_op=1, inter_op=2)
    return train(config)["test_accuracy"]


@pytest.fixture(scope="module")
def quick_table(tmp_path_factory):
    """Test accuracy of every Draw network at every working rate, trained with the quick preset: two runs at a
    time, as the engine runs the Learning rate page's sweep on two cores (about 7 min here, 15 one by one)."""
    out = tmp_path_factory.mktemp("quick")
    configs = presets.lr_sweep(MODELS, "quick", RATES)
    for config in configs:
        config.out_dir = str(out / f"{config.model}-{config.lr:g}")
    configs.sort(key=lambda c: -MODELS.index(c.model))  # the longest first, so the two workers end together
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        accuracies = list(pool.map(_test_accuracy, configs))
    table = {(c.model, c.lr): a for c, a in zip(configs, accuracies)}
    print("quick preset:", {f"{m} {lr:g}": round(a, 4) for (m, lr), a in sorted(table.items())})
    return table


# The first of these trains the whole table in its setup: 11 min in a full run on a quiet machine, so twice the
# suite's per-test limit (pyproject.toml) on a busy one.
@pytest.mark.slow
@pytest.mark.timeout(2400)
@pytest.mark.parametrize("model", MODELS)
def test_a_quick_run_reads_the_test_digits_at_every_working_learning_rate(quick_table, model):
    for lr in RATES:
        assert quick_table[model, lr] >= FLOOR[model], (model, lr, quick_table[model, lr])


@pytest.mark.slow
def test_the_quick_table_keeps_the_reports_order(quick_table):
    """The DNN reads fewer digits than both conv nets at every rate; the ConvNet and the ResNet are close
    (report 004: 99.1% and 99.2%), so only their lead over the DNN is asserted."""
    for lr in RATES:
        dnn = quick_table["dnn", lr]
        assert dnn < quick_table["convnet", lr] and dnn < quick_table["resnet", lr], (lr, quick_table)


def test_the_differences_from_report_004_are_read_from_the_table():
    """The quick DNN's cells as a real sweep read them (tests/test_lab_pages.py trains them): dead at 0.1, and
    0.0001, the report's best rate for it, behind 0.001 after 3 epochs. Cells within 5 points say nothing."""
    said = presets.against_report_004({("dnn", 0.1): 0.0982, ("dnn", 0.001): 0.962, ("dnn", 0.0001): 0.9334,
                                       ("convnet", 0.01): 0.985})
    assert said == ["The DNN at 0.1 reads 9.8% of the test digits where report 004's DNN kept 78%.",
                    "The DNN reads fewer at 0.0001, the report's best rate for it, than at 0.001 (93.3% against "
                    "96.2%)."]
    assert presets.against_report_004({("dnn", 0.001): 0.962, ("dnn", 0.0001): 0.97}) == []
    assert presets.describe([c.params() for c, _ in presets.grid("one at a time", "quick")]) == (
        "3 epochs on 6,000 digits, batches of 40-150, dropout 0.3-0.7, kernels 3-5")
