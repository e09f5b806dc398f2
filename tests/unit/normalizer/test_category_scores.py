"""CategoryModel.scores takes each word's roots once: the same scores as looking them up per keyword."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from normalizer.category import MAX_HITS_PER_KEYWORD, CategoryModel, load_categories, roots
from normalizer.text import words

MODEL = load_categories()
KEYWORD_WORDS = sorted({w for entries in MODEL.index.values() for kw, _c, _w in entries for w in kw})


def scores_as_before(model: CategoryModel, text: str) -> dict[str, float]:
    """scores() as it was written before: roots looked up again for every keyword tried."""
    tokens = words(text, model.slang)
    hits: dict[tuple[str, tuple[str, ...]], int] = defaultdict(int)
    weights: dict[tuple[str, tuple[str, ...]], float] = {}
    for i, token in enumerate(tokens):
        for root in roots(token):
            for kw_tokens, category, weight in model.index.get(root, ()):
                if i + len(kw_tokens) <= len(tokens) and all(
                        kw in roots(tokens[i + j]) for j, kw in enumerate(kw_tokens[1:], start=1)):
                    hits[category, kw_tokens] += 1
                    weights[category, kw_tokens] = max(weight, weights.get((category, kw_tokens), 0.0))
    totals: dict[str, float] = defaultdict(float)
    for key, count in hits.items():
        totals[key[0]] += weights[key] * min(count, MAX_HITS_PER_KEYWORD)
    return dict(totals)


AFFIXED = st.tuples(st.sampled_from(["", "di", "me", "pe", "ber", "ter", "ke"]), st.sampled_from(KEYWORD_WORDS),
                    st.sampled_from(["", "nya", "kan", "an", "i", "lah"])).map("".join)
WORD = st.one_of(AFFIXED, st.sampled_from(["jalan", "yg", "tdk", "di", "depan", "sdh", "3", "Jl.", ","]), st.text(max_size=8))


@settings(max_examples=300)
@given(st.lists(WORD, max_size=30).map(" ".join))
def test_same_scores_as_before(text: str) -> None:
    assert MODEL.scores(text) == scores_as_before(MODEL, text)


def test_several_word_keywords_still_match() -> None:
    several = [kw for entries in MODEL.index.values() for kw, _c, _w in entries if len(kw) > 1]
    assert several, "the model has keywords of several words"
    for kw in several[:50]:
        text = "mohon " + " ".join(kw) + " segera"
        assert MODEL.scores(text) == scores_as_before(MODEL, text) != {}
