"""The article a computed caption puts before a number or a word: as it is said, not as it is spelt."""

import pytest

from core.base.words import article, with_article
from core.data import samples


@pytest.mark.parametrize("word, said", [
    (0, "a"), (1, "a"), (7, "a"), (8, "an"), (11, "an"), (18, "an"), (80, "an"), (85, "an"), (89, "an"),
    (90, "a"), (110, "a"), (118, "a"), (180, "a"), (800, "an"), (1_100, "a"), (8_000, "an"), (11_000, "an"),
    (18_500, "an"), ("8,000", "an"), ("8", "an"), ("alpha", "an"), ("beta", "a"), ("x", "an"), ("b", "a"),
])
def test_an_before_what_is_said_with_a_vowel(word, said):
    assert article(word) == said


def test_the_shipped_examples_are_named_with_the_article_said():
    names = set(samples.examples())
    assert "thin pen of an 8" in names and "phone photo of a 5" in names, names
    assert not [n for n in names if n.endswith(" a 8")]
    assert with_article(8) == "an 8"
