"""Small English for captions that are computed: the article a number or a word takes.

"a 7" but "an 8": the article goes by the sound the reader says, so a number takes "an" when it is read
starting with a vowel: eight, eighteen, eighty, eight hundred; eleven; and the thousands and millions that
begin with them (11,000 is "eleven thousand", 1,100 "one thousand one hundred").
"""

from __future__ import annotations

LETTERS_SAID_WITH_A_VOWEL = set("aefhilmnorsx")  # "an f" (eff), "an x" (ex), "an h" (aitch): said, not spelt


def article(word: int | str) -> str:
    """'a' or 'an' before ``word``: a whole number (or its digits), a single letter, or a word."""
    text = str(word).strip().replace(",", "")
    if text.isdigit():
        leading = int(text)
        while leading >= 1000:  # read as its first group of three: 18,500 is "eighteen thousand ..."
            leading //= 1000
        return "an" if str(leading).startswith("8") or leading in (11, 18) else "a"
    if len(text) == 1:
        return "an" if text.lower() in LETTERS_SAID_WITH_A_VOWEL else "a"
    return "an" if text[:1].lower() in "aeiou" else "a"


def with_article(word: int | str) -> str:
    """``word`` after its article: 'a 7', 'an 8', 'an alpha'."""
    return f"{article(word)} {word}"
