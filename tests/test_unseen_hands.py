"""What a class gets from the shipped models on hands they never saw: own classes taught with 10 letters by some
writers and read on other writers' letters, and Greek letters written in several hands (the bench's measures)."""

from __future__ import annotations

import numpy as np
import pytest

from bench import bench_unseen_hands
from core import own_classes
from core.data import greek_strokes, unipen
from core.nets import registry
from tests.needs import needs_data

pytestmark = [pytest.mark.slow, needs_data(unipen.LETTERS)]


@pytest.fixture(scope="module")
def letters():
    return bench_unseen_hands.letters()


def test_the_default_features_read_unseen_writers_letters_better_than_the_resnets_and_pixels(letters):
    images, labels, groups = letters
    tasks = dict(n_tasks=40)
    default = np.mean(bench_unseen_hands.head_scores(own_classes.embed(own_classes.DEFAULT_MODEL, images),
                                                     labels, groups, **tasks))
    resnet = np.mean(bench_unseen_hands.head_scores(own_classes.embed("resnet", images), labels, groups, **tasks))
    pixels = np.mean(bench_unseen_hands.pixel_scores(images, labels, groups, **tasks))
    # 96.2% / 89% / 75% on these 40 tasks; 95.3% / 89.1% / 75.1% over 100 (bench_unseen_hands). The handwriting
    # network before it learnt the fonts' letters read 95.4% of these 40.
    assert default >= 0.955 and default >= resnet + 0.03 and resnet > pixels + 0.08, (default, resnet, pixels)


def test_the_shipped_greek_model_reads_greek_letters_written_in_other_hands():
    images, labels = greek_strokes.drawn(per_class=100, seed=1)
    model = registry.load("greek")
    right = model.predict(images[..., None], verbose=0).argmax(1) == labels
    # 99.3-99.7% over seeds 0-2 since it learns many hands (core.data.greek_hands, whose strokes include these
    # shapes in other hands; its held-out hands are in tests/test_greek_hands.py); 96-97% on the 27 letters alone
    assert right.mean() >= 0.95 and min(right[labels == k].mean() for k in range(3)) >= 0.88


def test_the_default_features_read_shapes_no_file_holds_as_the_issue_asks():
    images, labels, groups = bench_unseen_hands.shapes()
    tasks = dict(n_tasks=40)
    default = np.mean(bench_unseen_hands.head_scores(own_classes.embed(own_classes.DEFAULT_MODEL, images),
                                                     labels, groups, **tasks))
    pixels = np.mean(bench_unseen_hands.pixel_scores(images, labels, groups, **tasks))
    # 98.3% against pixels' 89.6% over 100 tasks (bench_unseen_hands), 98.3% on these 40 (97.9% before the fonts);
    # the issue's target is 97%
    assert default >= 0.98 and default > pixels + 0.05, (default, pixels)
