"""The Compare page's details for the shipped photo network: its colour mistakes and a quick first look."""

import re

import numpy as np
import pytest

from app_pages.ui.charts import to_png
from core.data import datasets
from core.nets import registry
from tests.pages import open_page


def pick(at, *names: str):
    """Tick the table's rows of the networks ``names``, as a click in the browser does."""
    table = at.dataframe[0].value
    rows = [int(table.index[table["network"] == registry.get(n).title][0]) for n in names]
    at.session_state["compare_table"] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    at.run()
    return at


@pytest.mark.slow
def test_ticking_the_shipped_cifar_resnet_shows_its_colour_mistakes(run_store):
    at = pick(open_page("compare"), "cifar_resnet")
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.markdown)
    wrong = re.search(rf"\*\*{registry.get('cifar_resnet').title}\*\* gets (\d+) of 10,000 wrong", text)
    card = round((1 - registry.card("cifar_resnet")["test_accuracy"]) * 10_000)  # its card's score: 90.61%
    assert wrong and abs(int(wrong[1]) - card) <= 2, text  # the app's reading of a photo, to a rounding
    captions = [i.caption for element in at.get("image") for i in element.proto.imgs]
    photos = [c for c in captions if c.split(" read as ")[0] in datasets.get_dataset("cifar10").classes]
    assert len(photos) == 16, captions


def test_a_colour_photo_is_drawn_in_colour_and_a_digit_in_gray():
    photo = np.zeros((32, 32, 3), np.float32)
    photo[..., 0] = 1.0  # all red
    picture = to_png(photo, 84)
    assert picture.mode == "RGB" and picture.size == (84, 84)
    assert picture.getpixel((40, 40)) == (255, 0, 0)
    for digit in (np.ones((28, 28), np.float32), np.ones((28, 28, 1), np.float32)):
        assert to_png(digit, 84).mode == "L" and to_png(digit, 84).getpixel((3, 3)) == 255


@pytest.mark.slow
def test_a_data_set_named_in_the_plural_takes_a_plain_apostrophe(run_store):
    at = pick(open_page("compare"), "cifar5_resnet")
    assert not at.exception, at.exception
    headings = [h.value for h in at.subheader]
    assert "On CIFAR-10, first five classes' 5,000 test images" in headings, headings
    assert not any("classes's" in h for h in headings)
