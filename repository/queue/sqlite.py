"""The embedded queue: a table in SQLite, reserved with ``BEGIN IMMEDIATE``."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path

from repository.queue import MAX_ATTEMPTS, Queue, Task, retry_delay

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, grp TEXT NOT NULL, payload TEXT NOT NULL,
    state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, due REAL NOT NULL,
    error TEXT, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS tasks_due ON tasks (state, due);
CREATE INDEX IF NOT EXISTS tasks_group ON tasks (grp, state);
"""


class SqliteQueue(Queue):
    def __init__(self, path: str | Path):
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._conn().executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.conn = conn
        return conn

    def put(self, kind: str, payload: dict, group: str = "") -> str:
        task_id = uuid.uuid4().hex
        now = time.time()
        self._conn().execute(
            "INSERT INTO tasks (id, kind, grp, payload, state, due, created) "
            "VALUES (?, ?, ?, ?, 'queued', ?, ?)",
            (task_id, kind, group, json.dumps(payload, ensure_ascii=False), now, now))
        return task_id

    def take(self, lease: float = 600, group: str | None = None) -> Task | None:
        conn = self._conn()
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Queued tasks that are due, and running ones whose worker's lease ran out.
            sql = ("SELECT id, kind, grp, payload, attempts FROM tasks "
                   "WHERE state IN ('queued', 'running') AND due <= ?")
            params: list = [now]
            if group is not None:
                sql += " AND grp = ?"
                params.append(group)
            row = conn.execute(sql + " ORDER BY due, created LIMIT 1", params).fetchone()
            if row is None:
                conn.execute("COMMIT")
                return None
            conn.execute("UPDATE tasks SET state = 'running', due = ? WHERE id = ?",
                         (now + lease, row[0]))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return Task(id=row[0], kind=row[1], group=row[2], payload=json.loads(row[3]),
                    attempts=row[4])

    def done(self, task: Task) -> None:
        self._conn().execute("DELETE FROM tasks WHERE id = ?", (task.id,))

    def fail(self, task: Task, error: str) -> bool:
        attempts = task.attempts + 1
        retry = attempts < MAX_ATTEMPTS
        self._conn().execute(
            "UPDATE tasks SET state = ?, attempts = ?, due = ?, error = ? WHERE id = ?",
            ("queued" if retry else "failed", attempts,
             time.time() + retry_delay(attempts) if retry else 0, error, task.id))
        return retry

    def pending(self, group: str) -> int:
        return self._conn().execute(
            "SELECT count(*) FROM tasks WHERE grp = ? AND state IN ('queued', 'running')",
            (group,)).fetchone()[0]

    def failed(self, group: str | None = None) -> list[Task]:
        sql = "SELECT id, kind, grp, payload, attempts, error FROM tasks WHERE state = 'failed'"
        rows = self._conn().execute(sql + (" AND grp = ?" if group is not None else ""),
                                    (group,) if group is not None else ()).fetchall()
        return [Task(id=r[0], kind=r[1], group=r[2], payload=json.loads(r[3]), attempts=r[4],
                     error=r[5]) for r in rows]

    def clear(self) -> None:
        self._conn().execute("DELETE FROM tasks")

    @contextlib.contextmanager
    def lock(self, name: str, ttl: float = 600):
        # Workers of an embedded queue share one machine: a lock file will do.
        folder = Path(self.path).with_name("locks")
        folder.mkdir(exist_ok=True)
        digest = hashlib.sha256(name.encode()).hexdigest()[:32]
        with open(folder / f"{digest}.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
