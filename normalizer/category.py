"""Suggest complaint categories from the text, with keywords kept as data in ``config/categories.toml``.

Text and keywords go through the same :func:`normalizer.text.words` (lower case,
SMS shorthand expanded); each text word is then expanded into its possible
roots by light Indonesian affix stripping (``diperbaiki`` → ``perbaiki``,
``baik``…), and a keyword matches when its first word is one of those roots
and the following words match in turn. A category scores 3 per strong and 1
per ordinary keyword hit (each keyword counted at most twice); confidences are
``score / (total + SMOOTHING)``, so they sum to less than 1 and a single weak
hit stays far from certainty. No hit at all gives ``[(fallback, 1.0)]``.
"""

from __future__ import annotations

import math
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from normalizer.text import SLANG, words

__all__ = ["DEFAULT_CATEGORIES_PATH", "CategoryModel", "load_categories", "roots", "suggest_categories"]

DEFAULT_CATEGORIES_PATH = Path(__file__).resolve().parent.parent / "config" / "categories.toml"
STRONG_WEIGHT = 3.0
WEAK_WEIGHT = 1.0
MAX_HITS_PER_KEYWORD = 2
SMOOTHING = 2.0
_MIN_ROOT = 3

_PARTICLES = ("lah", "kah", "pun", "tah")
_POSSESSIVES = ("nya", "ku", "mu")
_DERIVATIONAL = ("kan", "an", "i")
# Prefix → what the root may have started with (me- and pe- swallow k/p/s/t).
_PREFIXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("meng", ("", "k")), ("meny", ("s",)), ("mem", ("", "p")), ("men", ("", "t")), ("me", ("",)),
    ("peng", ("", "k")), ("peny", ("s",)), ("pem", ("", "p")), ("pen", ("", "t")), ("per", ("",)), ("pe", ("",)),
    ("di", ("",)), ("ter", ("",)), ("ber", ("",)), ("be", ("",)), ("ke", ("",)), ("se", ("",)),
)  # fmt: skip


def _strip_suffixes(word: str) -> set[str]:
    forms = {word}
    for group in (_PARTICLES, _POSSESSIVES, _DERIVATIONAL):
        for form in list(forms):
            for suffix in group:
                if form.endswith(suffix) and len(form) - len(suffix) >= _MIN_ROOT:
                    forms.add(form[: -len(suffix)])
    return forms


def _strip_prefixes(word: str, depth: int = 2) -> set[str]:
    forms = {word}
    if depth == 0:
        return forms
    for prefix, replacements in _PREFIXES:
        if word.startswith(prefix):
            for start in replacements:
                root = start + word[len(prefix) :]
                if len(root) >= _MIN_ROOT:
                    forms |= _strip_prefixes(root, depth - 1)
    return forms


@lru_cache(maxsize=65536)
def roots(word: str) -> frozenset[str]:
    """The word and every root light affix stripping can give (over-generates on purpose)."""
    if len(word) <= _MIN_ROOT or not word.isalpha():
        return frozenset((word,))
    out: set[str] = set()
    for form in _strip_suffixes(word):
        out |= _strip_prefixes(form)
    return frozenset(out)


@dataclass(frozen=True)
class CategoryModel:
    """Keywords indexed by their first word: ``first word → [(words, category, weight)]``."""

    categories: tuple[str, ...]
    fallback: str
    slang: dict[str, str]
    index: dict[str, list[tuple[tuple[str, ...], str, float]]] = field(repr=False)

    @classmethod
    def from_toml(cls, path: Path) -> CategoryModel:
        with open(path, "rb") as f:
            data = tomllib.load(f)
        slang = {**SLANG, **data.get("slang", {})}
        index: dict[str, list[tuple[tuple[str, ...], str, float]]] = defaultdict(list)
        for name, spec in data["categories"].items():
            for weight, key in ((STRONG_WEIGHT, "strong"), (WEAK_WEIGHT, "keywords")):
                for keyword in spec.get(key, []):
                    tokens = tuple(words(keyword, slang))
                    if tokens:
                        index[tokens[0]].append((tokens, name, weight))
        return cls(tuple(data["categories"]), data.get("fallback", "Lainnya"), slang, dict(index))

    def scores(self, text: str) -> dict[str, float]:
        # each word's roots once (a keyword of several words looks at the next words' roots again)
        forms = [roots(token) for token in words(text, self.slang)]
        hits: dict[tuple[str, tuple[str, ...]], int] = defaultdict(int)
        weights: dict[tuple[str, tuple[str, ...]], float] = {}
        for i, word_roots in enumerate(forms):
            for root in word_roots:
                for kw_tokens, category, weight in self.index.get(root, ()):
                    if len(kw_tokens) == 1 or _matches_at(forms, i, kw_tokens):
                        hits[category, kw_tokens] += 1
                        weights[category, kw_tokens] = max(weight, weights.get((category, kw_tokens), 0.0))
        totals: dict[str, float] = defaultdict(float)
        for key, count in hits.items():
            totals[key[0]] += weights[key] * min(count, MAX_HITS_PER_KEYWORD)
        return dict(totals)

    def suggest(self, text: str, top: int = 3) -> list[tuple[str, float]]:
        scores = self.scores(text)
        if not scores:
            return [(self.fallback, 1.0)]
        total = sum(scores.values()) + SMOOTHING
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], self.categories.index(kv[0])))
        # Floor, not round: three rounded-up values could sum past 1.
        return [(name, math.floor(score / total * 1000) / 1000) for name, score in ranked[:top]]


def _matches_at(forms: list[frozenset[str]], i: int, kw_tokens: tuple[str, ...]) -> bool:
    """Whether the keyword's later words are among the roots of the words after word ``i``."""
    if i + len(kw_tokens) > len(forms):
        return False
    return all(kw in forms[i + j] for j, kw in enumerate(kw_tokens[1:], start=1))


@cache
def load_categories(path: Path | str | None = None) -> CategoryModel:
    """The model from ``path`` (default: the repo's ``config/categories.toml``), read once per path."""
    return CategoryModel.from_toml(Path(path) if path else DEFAULT_CATEGORIES_PATH)


def suggest_categories(text: str, top: int = 3, *, model: CategoryModel | None = None) -> list[tuple[str, float]]:
    """Up to ``top`` ``(category, confidence)`` pairs, best first; confidences sum to ≤ 1."""
    return (model or load_categories()).suggest(text, top)
