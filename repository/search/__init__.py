"""Search: one interface, several backends (SQLite FTS5 now, Solr at scale).

A backend indexes :class:`SearchDocument` s (built from records by
:func:`repository.search.document.from_record`) and answers a :class:`Query`
with ranked hits and facet counts. Access is part of every query: a backend
only ever counts and returns documents whose access level the query allows.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from repository.errors import ConfigError
from repository.text import search_words

#: Facet fields, in the order the portal shows them.
FACETS = ("collection", "type", "place", "language", "decade", "category")
#: Text fields, from the most to the least telling for ranking.
TEXT_FIELDS = ("title", "people", "subjects", "description", "fulltext", "identifiers")
#: How much a match in each text field counts, the same on every backend.
WEIGHTS = {"title": 10.0, "people": 4.0, "subjects": 4.0, "description": 2.0, "fulltext": 1.0,
           "identifiers": 6.0}
SORTS = ("relevance", "newest", "date", "-date", "title")


@dataclass
class SearchDocument:
    id: str
    access: str
    text: dict[str, str]  # TEXT_FIELDS -> text as written (folded by the backend)
    facets: dict[str, list[str]]
    date_start: int | None = None
    created: str = ""
    title_sort: str = ""


@dataclass
class Query:
    text: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    visible: frozenset[str] = frozenset({"public"})
    page: int = 1
    page_size: int = 20
    sort: str = "relevance"
    #: auto: approximate matching only when nothing matches exactly;
    #: always: approximate from the start; never: exact words only.
    fuzzy: str = "auto"


@dataclass
class Hit:
    id: str
    score: float
    title_match: bool = False


@dataclass
class Results:
    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]
    page: int
    page_size: int
    #: True when the hits came from approximate (OCR-tolerant) matching.
    fuzzy: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class Clause:
    """One part of a parsed query: a word, a prefix, or a phrase (several words)."""

    words: tuple[str, ...]
    negated: bool = False
    prefix: bool = False
    fuzzy: bool = False


_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def parse_query(text: str) -> list[Clause]:
    """Split what a reader typed into clauses, folded as the index is.

    ``"sa đéc"`` is a phrase, ``-word`` excludes, ``word*`` is a prefix and
    ``word~`` asks for approximate matching of that word. Punctuation inside a
    word splits it into a phrase (``Sa-Đéc`` = ``"sa dec"``).
    """
    clauses = []
    for m in _TOKEN.finditer(text):
        if m[2] is not None:
            words = tuple(search_words(m[2]))
            if words:
                clauses.append(Clause(words, negated=bool(m[1])))
            continue
        token = m[3]
        negated = token.startswith("-") and len(token) > 1
        token = token.lstrip("-")
        prefix, fuzzy = token.endswith("*"), token.endswith("~")
        words = tuple(search_words(token))
        if words:
            clauses.append(Clause(words, negated, prefix and len(words) == 1,
                                  fuzzy and len(words) == 1))
    return clauses


class SearchIndex(abc.ABC):
    @abc.abstractmethod
    def add(self, documents: Iterable[SearchDocument]) -> int:
        """Index (or re-index) documents; returns how many."""

    @abc.abstractmethod
    def delete(self, doc_id: str) -> None: ...

    @abc.abstractmethod
    def clear(self) -> None: ...

    @abc.abstractmethod
    def count(self) -> int: ...

    @abc.abstractmethod
    def search(self, query: Query) -> Results: ...

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""


def open_search(location: str) -> SearchIndex:
    from repository.search.sqlite import SqliteSearch

    if location.startswith("sqlite:///"):
        return SqliteSearch(location[len("sqlite:///"):])
    if location.startswith(("http://", "https://")):
        from repository.search.solr import SolrSearch

        return SolrSearch([u.strip() for u in location.split(",") if u.strip()])
    raise ConfigError(f"unsupported search URL {location!r}")
