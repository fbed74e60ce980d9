"""Dates as librarians write them, read into a span of years.

A record keeps the date as written (``display``) and the earliest and latest
year it can mean (``start``, ``end``), which drive the decade facet and sorting.
Accepted forms, Vietnamese first:

=======================  ====================================================
``1925``                 a year (also ``năm 1925``)
``1925-03-14``           ISO date (also ``1925-03``)
``14/03/1925``           day/month/year, as dates are written in Vietnam
``1920-1930``            a range (also ``1920–1930``, ``1920/1930``)
``khoảng 1920``          approximate (also ``khoang``, ``ca.``, ``c.``,
                         ``circa``, ``~1920``, ``1920~``, ``1920?``)
``thập niên 1920``       a decade (also ``1920s``, ``192x``, ``192X``)
``thế kỷ XIX``           a century (also ``thế kỷ 19``, ``TK 19``,
                         ``19th century``); 19th = 1801–1900
=======================  ====================================================
"""

from __future__ import annotations

import datetime
import re

from repository.text import clean, fold

MIN_YEAR = 500


class DateError(ValueError):
    pass


_APPROX_PREFIX = re.compile(r"^(khoang|ca\.?|c\.|circa|~|vao khoang|chung)\s*", re.I)
_APPROX_SUFFIX = re.compile(r"\s*[~?]$")
_CENTURY = re.compile(r"(?:the ky|tk)\s+([0-9]{1,2}|[ivxlc]+)|([0-9]{1,2})(?:st|nd|rd|th) century")
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}


def _roman(text: str) -> int | None:
    if not text or any(c not in _ROMAN for c in text):
        return None
    total = 0
    for i, c in enumerate(text):
        value = _ROMAN[c]
        total += -value if i + 1 < len(text) and _ROMAN[text[i + 1]] > value else value
    return total


def _year(text: str) -> int:
    year = int(text)
    if year < MIN_YEAR or year > datetime.date.today().year + 1:
        raise DateError(f"year {year} is outside {MIN_YEAR}–{datetime.date.today().year}")
    return year


def _check_day(year: int, month: int, day: int = 1) -> None:
    try:
        datetime.date(year, month, day)
    except ValueError:
        raise DateError("no such day in the calendar") from None


def parse_date(value: str) -> dict:
    """Read a date into ``{"display", "start", "end", "approximate", "iso"?}``.

    Raises DateError with a message fit for a librarian.
    """
    display = clean(value)
    if not display:
        raise DateError("empty date")
    text = fold(display).strip()
    approximate = False
    m = _APPROX_PREFIX.match(text)
    if m:
        approximate, text = True, text[m.end():]
    m = _APPROX_SUFFIX.search(text)
    if m:
        approximate, text = True, text[: m.start()]
    text = re.sub(r"^nam\s+", "", text)
    result: dict = {"display": display}

    if m := re.fullmatch(r"(\d{4})", text):
        start = end = _year(m[1])
        result["iso"] = m[1]
    elif m := re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", text):
        start = end = _year(m[1])
        _check_day(start, int(m[2]), int(m[3] or 1))
        result["iso"] = m[0]
    elif m := re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text):
        start = end = _year(m[3])
        _check_day(start, int(m[2]), int(m[1]))
        result["iso"] = f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}"
    elif m := re.fullmatch(r"(\d{4})\s*(?:-|–|—|/|den|to)\s*(\d{4})", text):
        start, end = _year(m[1]), _year(m[2])
        if start > end:
            raise DateError(f"the range ends ({end}) before it starts ({start})")
        result["iso"] = f"{start}/{end}"
    elif m := re.fullmatch(r"(?:thap nien|nhung nam)\s+(\d{3})0|(\d{3})0s|(\d{3})x", text):
        decade = int(next(g for g in m.groups() if g)) * 10
        start, end = _year(str(decade)), decade + 9
        result["iso"] = f"{decade // 10}X"
    elif m := re.fullmatch(_CENTURY, text):
        token = m[1] or m[2]
        century = int(token) if token.isdigit() else _roman(token)
        if not century or century > 21:
            raise DateError(f"unknown century {token!r}")
        start, end = (century - 1) * 100 + 1, century * 100
        if start < MIN_YEAR:
            raise DateError(f"century before {MIN_YEAR}")
    else:
        raise DateError(
            "not a date Sen can read; write a year (1925), a range (1920-1930), "
            "an approximate year (khoảng 1920), a decade (thập niên 1920) or a century "
            "(thế kỷ XIX)")
    result.update(start=start, end=end, approximate=approximate)
    if approximate:
        result.pop("iso", None)
    return result


def decades(date: dict | None) -> list[int]:
    """The decades a date spans, for the decade facet (at most 10, else none)."""
    if not date:
        return []
    first, last = date["start"] // 10 * 10, date["end"] // 10 * 10
    if last - first > 90:
        return []
    return list(range(first, last + 10, 10))
