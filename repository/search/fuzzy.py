"""Approximate word matching for OCR-damaged text (symmetric-delete lookup).

OCR turns ``Tháp`` into ``Tbáp`` and ``Lãnh`` into ``Lânh`` (the latter folds
away). To find ``tbap`` from the query ``thap`` without scanning the whole
vocabulary, every indexed word is stored with the strings one deletion away
from it (two for long words); a query word's own deletions meet them, and the
true edit distance then confirms the candidates. The allowed distance grows
with the word's length, as in Lucene's AUTO fuzziness: short Vietnamese
syllables (``ao``, ``an``) are too dense to be matched approximately at all.
"""

from __future__ import annotations


def max_edits(word: str) -> int:
    n = len(word)
    if n < 4 or word.isdigit():
        return 0
    return 1 if n < 8 else 2


def deletes(word: str, edits: int) -> set[str]:
    """Every string made from ``word`` by removing up to ``edits`` characters."""
    found = {word}
    frontier = {word}
    for _ in range(edits):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w)) if len(w) > 1}
        found |= frontier
    return found


def distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (Damerau–Levenshtein), stopping past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]
