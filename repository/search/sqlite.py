"""The embedded search backend: SQLite FTS5 over folded text.

Text is folded by Sen (:func:`repository.text.fold`) before it reaches FTS5,
whose own ``remove_diacritics`` would leave đ alone. Ranking: documents whose
title matches come first, then BM25 with the title weighted most. Facets are
counted in SQL over the matching set, each facet ignoring its own filter so
that a reader can widen a selection (multi-select faceting).
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

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
from repository.search.fuzzy import deletes, distance, max_edits
from repository.text import fold, search_words

MAX_EXPANSIONS = 20

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, access TEXT NOT NULL,
    date_start INTEGER, created TEXT, title_sort TEXT);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    {", ".join(TEXT_FIELDS)}, tokenize = 'unicode61 remove_diacritics 0');
CREATE TABLE IF NOT EXISTS facets (doc INTEGER NOT NULL, field TEXT NOT NULL,
    value TEXT NOT NULL, PRIMARY KEY (doc, field, value)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS facets_by_value ON facets (field, value, doc);
CREATE TABLE IF NOT EXISTS terms (term TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS term_deletes (variant TEXT NOT NULL, term TEXT NOT NULL,
    PRIMARY KEY (variant, term)) WITHOUT ROWID;
PRAGMA user_version = 2;
"""
#: Bumped when the tables change; an older index is dropped (``sen rebuild search``).
SCHEMA_VERSION = 2
log = logging.getLogger(__name__)


def _quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


class SqliteSearch(SearchIndex):
    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        conn = self._conn()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'docs'").fetchone()
        if tables[0] and version != SCHEMA_VERSION:
            log.warning("the search index in %s was built by another version of Sen and is "
                        "dropped: run `sen rebuild search`", self.path)
            for table in ("docs", "fts", "facets", "terms", "term_deletes"):
                conn.execute(f"DROP TABLE IF EXISTS {table}")
        with conn:
            conn.executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA temp_store=MEMORY")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # Writing --------------------------------------------------------------------
    def add(self, documents: Iterable[SearchDocument]) -> int:
        conn = self._conn()
        count = 0
        with conn:
            known = set()
            for doc in documents:
                self._delete(conn, doc.id)
                cur = conn.execute(
                    "INSERT INTO docs (id, access, date_start, created, title_sort) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (doc.id, doc.access, doc.date_start, doc.created, fold(doc.title_sort)))
                rowid = cur.lastrowid
                folded = [" ".join(search_words(doc.text.get(f, ""))) for f in TEXT_FIELDS]
                conn.execute(f"INSERT INTO fts (rowid, {', '.join(TEXT_FIELDS)}) VALUES "
                             f"(?, {', '.join('?' * len(TEXT_FIELDS))})", (rowid, *folded))
                conn.executemany("INSERT INTO facets (doc, field, value) VALUES (?, ?, ?)",
                                 [(rowid, f, v) for f, values in doc.facets.items()
                                  for v in set(values)])
                known.update(w for text in folded for w in text.split())
                count += 1
            self._add_terms(conn, known)
        return count

    @staticmethod
    def _add_terms(conn: sqlite3.Connection, terms: set[str]) -> None:
        existing = set()
        for chunk in _chunks(sorted(terms), 500):
            existing.update(r[0] for r in conn.execute(
                f"SELECT term FROM terms WHERE term IN ({', '.join('?' * len(chunk))})", chunk))
        new = [t for t in terms - existing if max_edits(t)]
        conn.executemany("INSERT OR IGNORE INTO terms VALUES (?)", [(t,) for t in new])
        conn.executemany("INSERT OR IGNORE INTO term_deletes VALUES (?, ?)",
                         [(v, t) for t in new for v in deletes(t, max_edits(t))])

    @staticmethod
    def _delete(conn: sqlite3.Connection, doc_id: str) -> None:
        row = conn.execute("SELECT rowid FROM docs WHERE id = ?", (doc_id,)).fetchone()
        if row:
            conn.execute("DELETE FROM fts WHERE rowid = ?", row)
            conn.execute("DELETE FROM facets WHERE doc = ?", row)
            conn.execute("DELETE FROM docs WHERE rowid = ?", row)

    def delete(self, doc_id: str) -> None:
        conn = self._conn()
        with conn:
            self._delete(conn, doc_id)

    def clear(self) -> None:
        conn = self._conn()
        with conn:
            for table in ("docs", "fts", "facets", "terms", "term_deletes"):
                conn.execute(f"DELETE FROM {table}")

    def count(self) -> int:
        return self._conn().execute("SELECT count(*) FROM docs").fetchone()[0]

    # Reading --------------------------------------------------------------------
    def _similar(self, word: str) -> list[str]:
        """Indexed words within the allowed edit distance of ``word``, nearest first."""
        edits = max_edits(word)
        if not edits:
            return [word]
        variants = sorted(deletes(word, edits))
        found: set[str] = set()
        conn = self._conn()
        for chunk in _chunks(variants, 500):
            found.update(r[0] for r in conn.execute(
                "SELECT DISTINCT term FROM term_deletes WHERE variant IN "
                f"({', '.join('?' * len(chunk))})", chunk))
        scored = sorted((distance(word, t, edits), t) for t in found)
        near = [t for d, t in scored if d <= edits]
        return [word] + [t for t in near if t != word][: MAX_EXPANSIONS - 1]

    def _expression(self, clauses: list[Clause], fuzzy: bool) -> str | None:
        positive, negative = [], []
        for clause in clauses:
            if fuzzy or clause.fuzzy:
                # Every spelling of each word, in the same order: the phrase stays a phrase.
                variants = itertools.islice(itertools.product(
                    *(self._similar(w) for w in clause.words)), MAX_EXPANSIONS)
                part = " OR ".join(_quote(" ".join(v)) for v in variants)
            elif clause.prefix:
                part = _quote(clause.words[0]) + "*"
            else:
                part = _quote(" ".join(clause.words))
            (negative if clause.negated else positive).append(f"({part})")
        if not positive:
            return None
        expression = " AND ".join(positive)
        if negative:
            expression = f"({expression}) NOT ({' OR '.join(negative)})"
        return expression

    def _filters(self, query: Query, skip: str | None = None) -> tuple[str, list]:
        """SQL conditions on ``b.rowid`` for the facet filters (but ``skip``'s)."""
        sql, params = ["1"], []
        for name, values in sorted(query.filters.items()):
            if name == skip or not values or name not in FACETS:
                continue
            sql.append("b.rowid IN (SELECT doc FROM facets WHERE field = ? AND value IN "
                       f"({', '.join('?' * len(values))}))")
            params += [name, *values]
        return " AND ".join(sql), params

    def search(self, query: Query) -> Results:
        clauses = parse_query(query.text)
        fuzzy = query.fuzzy == "always"
        expression = self._expression(clauses, fuzzy)
        results = self._run(query, expression)
        if (results.total == 0 and query.fuzzy == "auto" and expression is not None
                and any(max_edits(w) for c in clauses if not c.negated for w in c.words)):
            results = self._run(query, self._expression(clauses, True))
            results.fuzzy = True
        results.fuzzy = results.fuzzy or fuzzy
        return results

    def _run(self, query: Query, expression: str | None) -> Results:
        # The visible documents that match the text are found once, into a temporary
        # table; counting, facets and ranking all start from it.
        conn = self._conn()
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS base (rowid INTEGER PRIMARY KEY)")
        conn.execute("DELETE FROM temp.base")
        visible = sorted(query.visible)
        access = f"access IN ({', '.join('?' * len(visible))})"
        if expression is None:
            conn.execute(f"INSERT INTO temp.base SELECT rowid FROM docs WHERE {access}", visible)
        else:
            conn.execute(f"INSERT INTO temp.base SELECT d.rowid FROM fts JOIN docs d ON "
                         f"d.rowid = fts.rowid WHERE fts MATCH ? AND d.{access}",
                         [expression, *visible])
        where, params = self._filters(query)
        total = conn.execute(f"SELECT count(*) FROM temp.base b WHERE {where}",
                             params).fetchone()[0]
        page = max(1, query.page)
        offset = (page - 1) * query.page_size
        sort = query.sort if query.sort != "relevance" or expression else "newest"
        if sort == "relevance":
            weights = ", ".join(str(WEIGHTS[f]) for f in TEXT_FIELDS)
            sql = (f"SELECT d.id, bm25(fts, {weights}) AS score, "
                   "fts.rowid IN (SELECT rowid FROM fts WHERE fts MATCH ?) AS in_title "
                   "FROM fts JOIN temp.base b ON b.rowid = fts.rowid "
                   f"JOIN docs d ON d.rowid = fts.rowid WHERE fts MATCH ? AND {where} "
                   "ORDER BY in_title DESC, score, d.id LIMIT ? OFFSET ?")
            rows = conn.execute(sql, [f"{{title}} : ({expression})", expression, *params,
                                      query.page_size, offset]).fetchall()
            hits = [Hit(id=r[0], score=-r[1], title_match=bool(r[2])) for r in rows]
        else:
            order = {"newest": "d.created DESC", "date": "d.date_start IS NULL, d.date_start",
                     "-date": "d.date_start IS NULL, d.date_start DESC",
                     "title": "d.title_sort"}.get(sort, "d.created DESC")
            rows = conn.execute(f"SELECT d.id FROM temp.base b JOIN docs d ON d.rowid = b.rowid "
                                f"WHERE {where} ORDER BY {order}, d.id LIMIT ? OFFSET ?",
                                [*params, query.page_size, offset]).fetchall()
            hits = [Hit(id=r[0], score=0.0) for r in rows]
        return Results(total=total, hits=hits, facets=self._facets(query), page=page,
                       page_size=query.page_size)

    def _facets(self, query: Query) -> dict[str, list[tuple[str, int]]]:
        """Counts per facet value; a facet's own filter is left out of its counts."""
        conn = self._conn()
        counts: dict[str, list[tuple[str, int]]] = {}
        filtered = [f for f in FACETS if query.filters.get(f)]
        groups = [(f, [f]) for f in filtered] + [(None, [f for f in FACETS if f not in filtered])]
        for skip, fields in groups:
            if not fields:
                continue
            where, params = self._filters(query, skip)
            rows = conn.execute(
                "SELECT f.field, f.value, count(*) FROM temp.base b JOIN facets f "
                f"ON f.doc = b.rowid WHERE f.field IN ({', '.join('?' * len(fields))}) "
                f"AND {where} GROUP BY f.field, f.value", [*fields, *params]).fetchall()
            for field, value, n in rows:
                counts.setdefault(field, []).append((value, n))
        for field in counts:
            counts[field].sort(key=lambda vc: (-vc[1], vc[0]))
        return {f: counts.get(f, []) for f in FACETS}


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]
