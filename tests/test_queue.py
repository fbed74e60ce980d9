"""The job queue contract, on the embedded SQLite queue and on Redis."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest

from repository.queue import MAX_ATTEMPTS, open_queue


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.integration)])
def queue(request, tmp_path):
    if request.param == "sqlite":
        q = open_queue(f"sqlite:///{tmp_path / 'queue.sqlite'}")
    else:
        url = os.environ.get("SEN_TEST_REDIS_URL")
        if not url:
            pytest.fail("SEN_TEST_REDIS_URL is not set: run `services/up redis` and "
                        "`eval \"$(services/env)\"` first")
        q = open_queue(url)
    q.clear()
    yield q
    q.clear()
    q.close()


def test_tasks_come_out_once_and_in_order(queue):
    ids = [queue.put("job", {"n": n, "text": "Đồng Tháp"}, group="g1") for n in range(3)]
    taken = [queue.take() for _ in range(3)]
    assert [t.id for t in taken] == ids
    assert taken[0].payload == {"n": 0, "text": "Đồng Tháp"} and taken[0].group == "g1"
    assert queue.take() is None  # all three are leased
    assert queue.pending("g1") == 3
    for task in taken:
        queue.done(task)
    assert queue.pending("g1") == 0 and queue.take() is None


def test_a_dead_workers_task_returns_after_its_lease(queue):
    queue.put("job", {}, group="g")
    first = queue.take(lease=0.3)
    assert queue.take() is None
    time.sleep(0.5)
    again = queue.take()
    assert again is not None and again.id == first.id


def test_failures_are_retried_with_delay_then_kept(queue, monkeypatch):
    monkeypatch.setattr("repository.queue.sqlite.retry_delay", lambda n: 0.05)
    monkeypatch.setattr("repository.queue.redis.retry_delay", lambda n: 0.05)
    queue.put("job", {"x": 1}, group="g")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        deadline = time.time() + 5
        task = queue.take()
        while task is None and time.time() < deadline:
            time.sleep(0.02)
            task = queue.take()
        assert task is not None and task.attempts == attempt - 1
        retry = queue.fail(task, f"boom {attempt}")
        assert retry == (attempt < MAX_ATTEMPTS)
    assert queue.take() is None and queue.pending("g") == 0
    [failed] = queue.failed("g")
    assert failed.error == f"boom {MAX_ATTEMPTS}" and failed.payload == {"x": 1}


def test_take_by_group(queue):
    queue.put("job", {}, group="a")
    b = queue.put("job", {}, group="b")
    assert queue.take(group="b").id == b
    assert queue.take(group="b") is None
    assert queue.take(group="a") is not None


def test_concurrent_workers_never_share_a_task(queue, tmp_path):
    total = 60
    for n in range(total):
        queue.put("job", {"n": n}, group="c")
    seen: list[str] = []
    lock = threading.Lock()

    def work():
        q = open_queue(queue_url(queue, tmp_path))
        while (task := q.take()) is not None:
            with lock:
                seen.append(task.id)
            q.done(task)
        q.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == total and len(set(seen)) == total
    assert queue.pending("c") == 0


def queue_url(queue, tmp_path) -> str:
    return getattr(queue, "url", None) or f"sqlite:///{tmp_path / 'queue.sqlite'}"


def test_lock_is_exclusive(queue):
    name = f"item:{uuid.uuid4().hex}"
    order = []

    def hold(tag, delay):
        with queue.lock(name, ttl=10):
            order.append(f"{tag}-in")
            time.sleep(delay)
            order.append(f"{tag}-out")

    first = threading.Thread(target=hold, args=("a", 0.3))
    first.start()
    time.sleep(0.1)
    hold("b", 0)
    first.join()
    assert order == ["a-in", "a-out", "b-in", "b-out"]
