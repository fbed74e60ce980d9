"""The embedded search backend: SQLite FTS5 over folded text.

Text is folded by Sen (:func:`repository.text.fold`) before it reaches FTS5,
whose own ``remove_diacritics`` would leave đ alone. Ranking: documents whose
title matches come first, then BM25 with the title weighted most. Facets are
counted in SQL over the matching set, each facet ignoring its own filter so
that a reader can widen a selection (multi-select faceting).
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from repository.search import (
    FACETS,
    TEXT_FIELDS,
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

WEIGHTS = {"title": 10.0, "people": 4.0, "subjects": 4.0, "description": 2.0, "fulltext": 1.0,
           "identifiers": 6.0}
MAX_EXPANSIONS = 20

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, access TEXT NOT NULL,
    date_start INTEGER, created TEXT, title_sort TEXT);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    {", ".join(TEXT_FIELDS)}, tokenize = 'unicode61 remove_diacritics 0');
CREATE TABLE IF NOT EXISTS facets (rowid INTEGER NOT NULL, field TEXT NOT NULL,
    value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS facets_by_value ON facets (field, value, rowid);
CREATE INDEX IF NOT EXISTS facets_by_row ON facets (rowid);
CREATE TABLE IF NOT EXISTS terms (term TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS term_deletes (variant TEXT NOT NULL, term TEXT NOT NULL,
    PRIMARY KEY (variant, term)) WITHOUT ROWID;
"""


def _quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


class SqliteSearch(SearchIndex):
    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as conn:
            conn.executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
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
                conn.executemany("INSERT INTO facets (rowid, field, value) VALUES (?, ?, ?)",
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
            conn.execute("DELETE FROM facets WHERE rowid = ?", row)
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

    def _where(self, query: Query, expression: str | None, skip_facet: str | None = None
               ) -> tuple[str, list]:
        sql = [f"d.access IN ({', '.join('?' * len(query.visible))})"]
        params: list = sorted(query.visible)
        if expression is not None:
            sql.append("d.rowid IN (SELECT rowid FROM fts WHERE fts MATCH ?)")
            params.append(expression)
        for name, values in sorted(query.filters.items()):
            if name == skip_facet or not values or name not in FACETS:
                continue
            sql.append("d.rowid IN (SELECT rowid FROM facets WHERE field = ? AND value IN "
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
        conn = self._conn()
        where, params = self._where(query, expression)
        total = conn.execute(f"SELECT count(*) FROM docs d WHERE {where}", params).fetchone()[0]
        page = max(1, query.page)
        offset = (page - 1) * query.page_size
        sort = query.sort if query.sort != "relevance" or expression else "newest"
        if sort == "relevance":
            weights = ", ".join(str(WEIGHTS[f]) for f in TEXT_FIELDS)
            sql = (f"SELECT d.id, bm25(fts, {weights}) AS score, "
                   "d.rowid IN (SELECT rowid FROM fts WHERE fts MATCH ?) AS in_title "
                   f"FROM docs d JOIN fts ON fts.rowid = d.rowid WHERE {where} AND fts MATCH ? "
                   "ORDER BY in_title DESC, score, d.id LIMIT ? OFFSET ?")
            rows = conn.execute(sql, [f"{{title}} : ({expression})", *params, expression,
                                      query.page_size, offset]).fetchall()
            hits = [Hit(id=r[0], score=-r[1], title_match=bool(r[2])) for r in rows]
        else:
            order = {"newest": "d.created DESC", "date": "d.date_start IS NULL, d.date_start",
                     "-date": "d.date_start IS NULL, d.date_start DESC",
                     "title": "d.title_sort"}.get(sort, "d.created DESC")
            rows = conn.execute(f"SELECT d.id FROM docs d WHERE {where} ORDER BY {order}, d.id "
                                "LIMIT ? OFFSET ?", [*params, query.page_size, offset]).fetchall()
            hits = [Hit(id=r[0], score=0.0) for r in rows]
        return Results(total=total, hits=hits, facets=self._facets(query, expression),
                       page=page, page_size=query.page_size)

    def _facets(self, query: Query, expression: str | None) -> dict[str, list[tuple[str, int]]]:
        conn = self._conn()
        counts: dict[str, list[tuple[str, int]]] = {}
        filtered = [f for f in FACETS if query.filters.get(f)]
        groups = [(f, [f]) for f in filtered] + [(None, [f for f in FACETS if f not in filtered])]
        for skip, fields in groups:
            if not fields:
                continue
            where, params = self._where(query, expression, skip_facet=skip)
            rows = conn.execute(
                f"SELECT f.field, f.value, count(*) FROM facets f WHERE f.field IN "
                f"({', '.join('?' * len(fields))}) AND f.rowid IN "
                f"(SELECT d.rowid FROM docs d WHERE {where}) GROUP BY f.field, f.value",
                [*fields, *params]).fetchall()
            for field, value, n in rows:
                counts.setdefault(field, []).append((value, n))
        for field in counts:
            counts[field].sort(key=lambda vc: (-vc[1], vc[0]))
        return {f: counts.get(f, []) for f in FACETS}


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]
