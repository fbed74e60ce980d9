"""Vietnamese text: normalisation and folding for search.

Text is stored as NFC. Search compares *folded* text: lower case, every
combining mark removed and đ → d, so that ``Đồng Tháp``, ``dong thap`` and
``ĐỒNG THÁP`` are the same words, and the old and new tone-mark placements
(``hoà``/``hòa``, ``thuý``/``thúy``) meet because the tone mark is gone. SQLite's
own ``remove_diacritics`` does not fold đ (it is a letter, not a d with a mark),
which is why Sen folds before indexing.
"""

from __future__ import annotations

import re
import unicodedata

_STROKES = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ł": "l", "Ł": "l",
                          "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe",
                          "ß": "ss"})
_WORD = re.compile(r"\w+", re.UNICODE)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def clean(text: str) -> str:
    """NFC, control characters removed, runs of white space made one space."""
    text = nfc(text)
    text = "".join(c if c in "\t\n" or unicodedata.category(c)[0] != "C" else " " for c in text)
    return " ".join(text.split())


def fold(text: str) -> str:
    """Fold for matching: lower case, no marks, đ → d (``Đồng Tháp`` → ``dong thap``)."""
    text = text.translate(_STROKES).lower()
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped.translate(_STROKES))


def words(text: str) -> list[str]:
    """The folded words of ``text``."""
    return _WORD.findall(fold(text))


_LOOKALIKE_DIGITS = str.maketrans("015", "ols")


def search_words(text: str) -> list[str]:
    """Folded words as the search index keeps them, with OCR's commonest confusions undone.

    Applied alike to indexed text and to queries, so it never loses a match:
    ``rn`` reads as ``m`` (folded Vietnamese never has ``rn``; French words with
    it still match themselves), and in a word mixing letters and digits the
    digits 0, 1, 5 read as o, l, s (``Ca0`` → ``cao``, ``1úa`` → ``lua``), while
    numbers such as ``1925`` stay numbers.
    """
    found = []
    for word in words(text):
        word = word.replace("rn", "m")
        if not word.isdigit() and any(c.isdigit() for c in word):
            word = word.translate(_LOOKALIKE_DIGITS)
        found.append(word)
    return found


def slugify(text: str, max_length: int = 80) -> str:
    """A URL-safe id from a name: ``Tài liệu địa chí`` → ``tai-lieu-dia-chi``."""
    return "-".join(words(text))[:max_length].strip("-") or "x"
