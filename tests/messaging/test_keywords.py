"""The carriers' keyword rule (messaging.services.keyword_of): the keyword alone, in any case, with
surrounding whitespace and trailing punctuation ignored; anything more is a reply."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messaging.services import (
    HELP_KEYWORDS,
    KEYWORD_TRAILING_PUNCTUATION,
    OPT_IN_KEYWORDS,
    OPT_OUT_KEYWORDS,
    keyword_of,
)

KEYWORDS = {**dict.fromkeys(OPT_OUT_KEYWORDS, "STOP"), **dict.fromkeys(OPT_IN_KEYWORDS, "START")}
KEYWORDS.update(dict.fromkeys(HELP_KEYWORDS, "HELP"))
WHITESPACE = " \t\r\n"


@st.composite
def cased(draw, word):
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    return "".join(c.lower() if flip else c.upper() for c, flip in zip(word, flips, strict=True))


keyword = st.sampled_from(sorted(KEYWORDS))
space = st.text(alphabet=WHITESPACE, max_size=3)
trailing = st.text(alphabet=KEYWORD_TRAILING_PUNCTUATION, max_size=3)


@given(word=keyword.flatmap(lambda w: st.tuples(st.just(w), cased(w))), before=space, after=space, punct=trailing)
def test_the_keyword_alone_in_any_case_with_whitespace_and_trailing_punctuation(word, before, after, punct):
    canonical, variant = word
    assert keyword_of(f"{before}{variant}{punct}{after}") == KEYWORDS[canonical]


@given(
    word=keyword.flatmap(cased),
    extra=st.sampled_from(["please", "calling", "now", "it", "me", "2", "🛑"]),
    punct=trailing,
    first=st.booleans(),
)
def test_the_keyword_with_another_word_is_a_reply(word, extra, punct, first):
    body = f"{extra} {word}{punct}" if first else f"{word} {extra}{punct}"
    assert keyword_of(body) == ""


@given(word=keyword.flatmap(cased), lead=st.sampled_from(["'", '"', "(", "-", "#", "*"]))
def test_leading_punctuation_is_not_ignored(word, lead):
    # Only trailing punctuation is the carriers' allowance: "-stop" or "(stop" are not the keyword alone.
    assert keyword_of(f"{lead}{word}") == ""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Stop.", "STOP"),
        ("STOP!", "STOP"),
        (" stop ", "STOP"),
        ("Stop!!", "STOP"),
        ("stop?!", "STOP"),
        ("Stop…", "STOP"),
        ("STOP !", "STOP"),
        ("\nUnsubscribe.\n", "STOP"),
        ("start.", "START"),
        ("Unstop!", "START"),
        ("Help?", "HELP"),
        ("stop please", ""),
        ("don't stop", ""),
        ("STOP calling", ""),
        ("please don't stop calling me", ""),
        ("stopp", ""),
        ("s top", ""),
        ("", ""),
        ("...", ""),
    ],
)
def test_examples(body, expected):
    assert keyword_of(body) == expected
