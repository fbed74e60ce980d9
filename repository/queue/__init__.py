"""Background jobs: one small queue interface, SQLite embedded, Redis at scale.

A task is reserved with a lease: a worker that dies (kill -9, a lost machine)
stops renewing nothing and its task returns to the queue when the lease runs
out, so work is never lost, only repeated — which is why every task Sen queues
is idempotent (an ingest of unchanged input makes no new version). A task that
keeps failing is retried with growing delays, then kept as failed with its
error for a librarian to read.
"""

from __future__ import annotations

import abc
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from repository.errors import ConfigError

#: Seconds a worker may hold a task before it is offered again.
LEASE_SECONDS = 600
#: Attempts before a task is marked failed; delays grow as 2, 4, 8… seconds.
MAX_ATTEMPTS = 5


def retry_delay(attempts: int) -> float:
    return min(2.0 ** attempts, 300.0)


@dataclass
class Task:
    id: str
    kind: str
    payload: dict
    attempts: int = 0
    error: str | None = None
    group: str = ""  # e.g. the ingest job the task belongs to


@dataclass
class QueueStats:
    queued: int = 0
    running: int = 0
    failed: int = 0
    groups: dict[str, dict[str, int]] = field(default_factory=dict)


class Queue(abc.ABC):
    @abc.abstractmethod
    def put(self, kind: str, payload: dict, group: str = "") -> str:
        """Add a task; returns its id."""

    @abc.abstractmethod
    def take(self, lease: float = LEASE_SECONDS, group: str | None = None) -> Task | None:
        """Reserve the next due task (of ``group`` if given), or None if there is none now."""

    @abc.abstractmethod
    def done(self, task: Task) -> None:
        """The task succeeded: forget it."""

    @abc.abstractmethod
    def fail(self, task: Task, error: str) -> bool:
        """The task failed: retry later, or keep it as failed. True if it will be retried."""

    @abc.abstractmethod
    def pending(self, group: str) -> int:
        """Tasks of ``group`` queued, waiting for a retry, or running."""

    @abc.abstractmethod
    def failed(self, group: str | None = None) -> list[Task]:
        """Tasks that failed for good."""

    @abc.abstractmethod
    def clear(self) -> None:
        """Drop every task (tests, and an operator starting over)."""

    @abc.abstractmethod
    def lock(self, name: str, ttl: float = LEASE_SECONDS) -> AbstractContextManager:
        """Exclusive, across every worker using this queue (e.g. one writer per OCFL object)."""

    @abc.abstractmethod
    def close(self) -> None: ...


def open_queue(location: str) -> Queue:
    if location.startswith("sqlite:///"):
        from repository.queue.sqlite import SqliteQueue

        return SqliteQueue(location[len("sqlite:///"):])
    if location.startswith(("redis://", "rediss://", "unix://")):
        from repository.queue.redis import RedisQueue

        return RedisQueue(location)
    raise ConfigError(f"unsupported queue URL {location!r}")
