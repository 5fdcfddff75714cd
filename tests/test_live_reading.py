"""The live reading in the browser (static/live, onnxruntime-web on the ONNX copies) reads a drawing as the
server does: the same 28x28 input and the same probabilities, on the UNIPEN development digits drawn on a
canvas in Chromium (issue 18: >= 99.5% the same top digit, mean |difference| <= 0.01)."""

from __future__ import annotations

import pytest

from bench.harness.live import compare
from core.data import unipen
from core.nets import registry
from tests.needs import needs_data

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_the_live_reading_reads_a_few_drawings_as_the_server(unipen):
    found = compare(unipen[:12], ("dnn",))
    assert found["drawings"] == 12 and found["input_max_difference"] < 1e-4, found
    assert found["dnn"]["same_top"] == 1.0 and found["dnn"]["mean_abs_difference"] < 1e-5, found


@needs_data(unipen.DIGITS)
def test_the_live_reading_of_the_1000_development_digits_is_the_servers():
    found = compare(unipen.load_unipen(file=unipen.DIGITS), registry.DRAW_MODELS)
    assert found["drawings"] >= 990 and found["input_max_difference"] < 1e-4, found
    for m in registry.DRAW_MODELS:
        assert found[m]["same_top"] >= 0.995 and found[m]["mean_abs_difference"] <= 0.01, found
