"""The ANONIM/RAHASIA grammar's one home: the mail completer and the normaliser read a text the same way."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from channels.email.complete import read_privacy_tags
from channels.privacy_tags import read_privacy_keywords
from normalizer.keywords import extract_privacy_keywords

TAGS = ["ANONIM", "anonim", "Rahasia", "[ANONIM]", "(rahasia)", "#anonim", "/rahasia@LaporBot", "R A H A S I A",
        "anonimmm", "anonymous", "anonim:", "rahasia -"]  # fmt: skip
SEPARATORS = [" ", ", ", "\n", " - ", ": "]
# plain text, and words that come close to a keyword without being one
WORDS = st.sampled_from(["jalan", "rusak", "Anonimnya", "Rahasiakan", "pungli", "anonimitas", "2", "di", "(", "[", "#"])
ASCII_TEXT = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60),
    st.lists(WORDS, max_size=8).map(" ".join),
)


@st.composite
def tagged(draw: st.DrawFn) -> tuple[list[str], str, str]:
    tags = draw(st.lists(st.sampled_from(TAGS), min_size=1, max_size=3))
    rest = draw(st.lists(st.sampled_from(["jalan", "rusak", "pungli", "di", "pasar"]), min_size=1, max_size=5))
    sep = draw(st.sampled_from(SEPARATORS))
    return tags, sep.join(tags) + sep + " ".join(rest), " ".join(rest)


@settings(max_examples=300, deadline=None)
@given(st.one_of(ASCII_TEXT, tagged().map(lambda t: t[1] + " " + t[2])))
def test_a_text_as_written_reads_as_the_normaliser_reads_it(text: str) -> None:
    # an ASCII text is its own skeleton: the channel's reading and the normaliser's are the same
    assert read_privacy_keywords(text) == extract_privacy_keywords(text)


@settings(max_examples=300, deadline=None)
@given(tagged())
def test_tags_at_the_start_set_their_flags_and_leave_the_rest(case: tuple[list[str], str, str]) -> None:
    tags, text, rest = case
    flags = read_privacy_keywords(text)
    assert flags.remaining_text == rest
    assert flags.confidential == any("ahasia" in t.casefold().replace(" ", "") for t in tags)
    assert flags.anonymous == any("anon" in t.casefold() for t in tags)


@settings(max_examples=300, deadline=None)
@given(ASCII_TEXT)
def test_the_mail_body_is_read_by_the_same_grammar(body: str) -> None:
    _, out, hint = read_privacy_tags("Pengaduan", body)
    flags = extract_privacy_keywords(body)
    assert (hint is not None) == (flags.anonymous or flags.confidential)
    if hint is not None:
        assert (hint.anonymous, hint.confidential, out) == (flags.anonymous, flags.confidential, flags.remaining_text)
    else:
        assert out == body
