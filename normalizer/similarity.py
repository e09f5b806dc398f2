"""Near-duplicate check between a new complaint and the same reporter's recent ones.

Texts are normalized with :func:`normalizer.text.words` (lower case, SMS
shorthand expanded, punctuation gone), then compared as sets of character
4-gram shingles taken over the normalized word sequence. Character shingles of
words (rather than whole-word n-grams) keep a one-letter typo from turning a
resend into a "different" complaint, while two different complaints from the
same street share too few shingles to pass.
"""

from __future__ import annotations

from functools import lru_cache

from normalizer.text import words

__all__ = ["NEAR_DUPLICATE_THRESHOLD", "near_duplicate", "shingles", "similarity"]

SHINGLE = 4
NEAR_DUPLICATE_THRESHOLD = 0.7


@lru_cache(maxsize=4096)
def shingles(text: str) -> frozenset[str]:
    """Character 4-grams of the normalized text (words joined by one space)."""
    norm = " ".join(words(text))
    if len(norm) <= SHINGLE:
        return frozenset((norm,)) if norm else frozenset()
    return frozenset(norm[i : i + SHINGLE] for i in range(len(norm) - SHINGLE + 1))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' shingle sets, in [0, 1] (1.0 for two empty texts)."""
    sa, sb = shingles(a), shingles(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


def near_duplicate(a: str, b: str, threshold: float = NEAR_DUPLICATE_THRESHOLD) -> bool:
    """True for the same complaint sent again, also with a typo or a few words changed."""
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return False
    small, large = sorted((len(sa), len(sb)))
    if small / large < threshold:  # Jaccard ≤ |small| / |large|: skip the set work
        return False
    return similarity(a, b) >= threshold
