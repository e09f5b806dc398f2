"""words() squeezes letter runs in the whole text at once: the same tokens as squeezing each token."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from normalizer.text import SLANG, words

_TOKEN = re.compile(r"[^\W_]+")
_LONG_RUN = re.compile(r"([^\W\d_])\1{2,}")


def words_token_by_token(s: str) -> list[str]:
    """words() as it was written before: each token squeezed on its own."""
    out: list[str] = []
    for token in _TOKEN.findall(unicodedata.normalize("NFKC", s or "").casefold()):
        token = _LONG_RUN.sub(r"\1", token)
        if token[-1] == "2" and token[:-1].isalpha():
            token = token[:-1]
        out.extend(SLANG.get(token, token).split())
    return out


# letters that repeat, digits, the reduplication 2, separators, shorthand, and characters NFKC or
# case folding change (fullwidth, ß, the Kelvin sign, ligatures, combining marks)
PIECES = st.sampled_from(["a", "aa", "aaa", "k", "K", "\u212a", "ß", "ss", "ﬀ", "2", "3", "_", " ", ",", "-",
                          "\u0301", "Ａ", "ａａａ", "yg", "tdk", "jl", "rs", "syarat2", "tolonggg", "\n", "é", "ı"])


@given(st.lists(PIECES, max_size=40).map("".join))
def test_same_tokens_as_squeezing_each_token(text: str) -> None:
    assert words(text) == words_token_by_token(text)


@given(st.text(max_size=80))
def test_same_tokens_for_any_text(text: str) -> None:
    assert words(text) == words_token_by_token(text)


def test_examples() -> None:
    assert words("Tolonggg, jln RUSAKKK parah syarat2 yg tdk ada") == [
        "tolong", "jalan", "rusak", "parah", "syarat", "yang", "tidak", "ada"]
