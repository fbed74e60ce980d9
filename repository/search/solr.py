"""The search backend at scale: a Solr 9 core or SolrCloud collection, through pysolr.

It answers exactly as the embedded index (:mod:`repository.search.sqlite`) does, which
the contract suite (tests/test_search.py) checks on both. The configset
(``schemas/solr/``) folds text as :func:`repository.text.search_words` does, so the
words :func:`repository.search.parse_query` yields are already in indexed form; they are
escaped and placed into a query Sen builds itself — a reader's syntax never reaches
Solr. Every query runs with the complex-phrase parser, so that an approximate phrase
(``"thap~1 muoi~1"``) keeps its word order like an exact one.

Several URLs (nodes of one SolrCloud, or replicas behind their own addresses) are tried
in turn when one cannot be reached; the last one that answered is tried first next time.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from itertools import islice

import pysolr
import requests

from repository.errors import ConfigError, SearchUnavailable, SenError
from repository.search import (
    FACETS,
    TEXT_FIELDS,
    WEIGHTS,
    Clause,
    Hit,
    Query,
    Results,
    SearchDocument,
    SearchIndex,
    parse_query,
)
from repository.search.fuzzy import max_edits
from repository.text import fold

BATCH = 500
# pysolr logs a whole traceback for every node that does not answer; Sen reports the
# failure itself (SearchUnavailable names every URL and why), once.
logging.getLogger("pysolr").setLevel(logging.CRITICAL)
SORTS = {"newest": "created desc, id asc", "date": "date_start asc, id asc",
         "-date": "date_start desc, id asc", "title": "title_sort asc, id asc"}
#: Title matches first (the same query on the title alone), then relevance.
RELEVANCE = "exists(query($tq)) desc, score desc, id asc"
_SPECIAL = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/\s])')
_STATUS = re.compile(r"\(HTTP (\d{3})\)")


def _escape(word: str) -> str:
    return _SPECIAL.sub(r"\\\1", word)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _any_of(field: str, values: Iterable[str]) -> str:
    values = sorted(set(values))
    if not values:
        return "-*:*"  # nothing: an empty visibility set shows no document
    return f"{field}:({' OR '.join(_quoted(v) for v in values)})"


def _clause(field: str, clause: Clause, fuzzy: bool) -> str:
    """One clause on one field, in the complex-phrase parser's syntax.

    Approximate clauses go to the field's ``_fuzzy`` copy, where short words and numbers
    are out of reach of edits (see ``schemas/solr/schema.xml``), as in the embedded index.
    """
    words = [_escape(w) for w in clause.words]
    if fuzzy or clause.fuzzy:
        # Each word within its allowed edits (none for short ones), the order kept.
        field += "_fuzzy"
        words = [w + (f"~{max_edits(raw)}" if max_edits(raw) else "")
                 for w, raw in zip(words, clause.words, strict=True)]
    elif clause.prefix:
        return f"{field}:{words[0]}*"
    return f"{field}:{words[0]}" if len(words) == 1 else f'{field}:"{" ".join(words)}"'


def _expressions(clauses: list[Clause], fuzzy: bool) -> tuple[str, str] | None:
    """The query on every text field, and the same query on the title alone.

    ``None`` when nothing positive was asked for: like the embedded index, Sen then
    lists every visible document (an exclusion alone excludes nothing).
    """
    positive = [c for c in clauses if not c.negated]
    if not positive:
        return None

    def across(clause: Clause) -> str:
        return "(" + " OR ".join(f"{_clause(f, clause, fuzzy)}^{WEIGHTS[f]:g}"
                                 for f in TEXT_FIELDS) + ")"

    text = " ".join([f"+{across(c)}" for c in positive]
                    + [f"-{across(c)}" for c in clauses if c.negated])
    title = " ".join(f"+{_clause('title', c, fuzzy)}" for c in positive)
    return text, title


class SolrSearch(SearchIndex):
    def __init__(self, urls: list[str], timeout: float = 30.0):
        if not urls:
            raise ConfigError("no Solr URL given for the search index")
        self.urls = [u.rstrip("/") for u in urls]
        # Connecting is quick or hopeless; answering may take a while (large commits).
        self._clients = [pysolr.Solr(u, timeout=(min(5.0, timeout), timeout))
                         for u in self.urls]
        self._first = 0
        self._lock = threading.Lock()

    def _call(self, method: str, *args, **kwargs):
        """Call a pysolr method on the first node that answers.

        A node that cannot be reached, times out or answers 5xx (a SolrCloud node that
        lost its shards answers 503) is skipped; any other error is Sen's bug or a wrong
        configset, and is raised at once.
        """
        failures = []
        start = self._first
        for i in range(len(self._clients)):
            n = (start + i) % len(self._clients)
            try:
                result = getattr(self._clients[n], method)(*args, **kwargs)
            except pysolr.SolrError as err:
                status = _STATUS.search(str(err))
                reachable = not isinstance(err.__context__, requests.RequestException)
                if reachable and status and not status[1].startswith("5"):
                    raise SenError(f"Solr at {self.urls[n]} refused a request: {err}") from err
                failures.append(f"{self.urls[n]} ({str(err).splitlines()[0][:200]})")
                continue
            with self._lock:
                self._first = n
            return result
        raise SearchUnavailable("the search index cannot be reached: " + "; ".join(failures))

    def close(self) -> None:
        for client in self._clients:
            if client.session is not None:
                client.session.close()
                client.session = None

    # Writing --------------------------------------------------------------------
    @staticmethod
    def _solr_doc(doc: SearchDocument) -> dict:
        fields = {"id": doc.id, "access": doc.access, "date_start": doc.date_start,
                  "created": doc.created, "title_sort": fold(doc.title_sort)}
        fields.update({f: doc.text.get(f, "") for f in TEXT_FIELDS})
        fields.update({f: sorted(set(doc.facets.get(f, []))) for f in FACETS})
        return fields

    def add(self, documents: Iterable[SearchDocument]) -> int:
        count = 0
        pending = iter(documents)
        while batch := [self._solr_doc(d) for d in islice(pending, BATCH)]:
            self._call("add", batch)
            count += len(batch)
        if count:
            self._call("commit", softCommit=True)
        return count

    def delete(self, doc_id: str) -> None:
        self._call("delete", id=doc_id, softCommit=True)

    def clear(self) -> None:
        self._call("delete", q="*:*", commit=True)

    def count(self) -> int:
        return self._call("search", "*:*", defType="lucene", rows=0).hits

    # Reading --------------------------------------------------------------------
    def search(self, query: Query) -> Results:
        clauses = parse_query(query.text)
        fuzzy = query.fuzzy == "always"
        results = self._run(query, _expressions(clauses, fuzzy))
        if (results.total == 0 and query.fuzzy == "auto"
                and any(max_edits(w) for c in clauses if not c.negated for w in c.words)):
            results = self._run(query, _expressions(clauses, True))
            results.fuzzy = True
        results.fuzzy = results.fuzzy or fuzzy
        return results

    def _run(self, query: Query, expressions: tuple[str, str] | None) -> Results:
        page = max(1, query.page)
        filtered = [f for f in FACETS if query.filters.get(f)]
        params = {
            "defType": "complexphrase", "fl": "id", "rows": query.page_size,
            "start": (page - 1) * query.page_size,
            "fq": [_any_of("access", query.visible)]
            + [f"{{!tag={f}}}{_any_of(f, query.filters[f])}" for f in filtered],
            "facet": "true", "facet.mincount": 1, "facet.limit": -1, "facet.sort": "count",
            # Each facet ignores its own filter, so a reader can widen a selection.
            "facet.field": [f"{{!ex={f}}}{f}" if f in filtered else f for f in FACETS],
        }
        sort = query.sort if query.sort != "relevance" or expressions else "newest"
        if expressions is None:
            text = "*:*"
        else:
            text, params["tq"] = expressions[0], "{!complexphrase}" + expressions[1]
        if sort == "relevance":
            params.update(sort=RELEVANCE, fl="id,score,title_match:exists(query($tq))")
        else:
            params["sort"] = SORTS.get(sort, SORTS["newest"])
        found = self._call("search", text, **params)
        hits = [Hit(id=d["id"], score=float(d["score"]) if sort == "relevance" else 0.0,
                    title_match=bool(d.get("title_match"))) for d in found.docs]
        counts = found.facets.get("facet_fields", {})
        facets = {f: _pairs(counts.get(f, [])) for f in FACETS}
        return Results(total=found.hits, hits=hits, facets=facets, page=page,
                       page_size=query.page_size)


def _pairs(flat: list) -> list[tuple[str, int]]:
    """Solr's ``[value, count, value, count…]``, in the embedded index's order."""
    pairs = [(str(v), int(n)) for v, n in zip(flat[::2], flat[1::2], strict=True)]
    return sorted(pairs, key=lambda vc: (-vc[1], vc[0]))

