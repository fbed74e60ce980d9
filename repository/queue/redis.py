"""The queue at scale: Redis, shared by workers on any number of machines.

Keys (prefix ``sen:q:``): ``due`` is a sorted set of task ids by the time they
may run next (queued tasks, retries waiting out their delay, and running tasks
by the end of their lease); ``task:{id}`` is a hash with the task; ``failed`` a
set of ids kept for reading; ``pending:{group}`` counts a group's unfinished
tasks. Every change is one MULTI transaction. Reserving is one Lua script, so two workers never
take the same task, and a worker that dies simply lets its lease expire.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid

import redis

from repository.errors import SenError
from repository.queue import MAX_ATTEMPTS, Queue, Task, retry_delay

PREFIX = "sen:q:"

# KEYS: due, ARGV: now, lease, group ('' = any). Returns the id reserved, or nil.
TAKE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 50)
for _, id in ipairs(ids) do
  local key = ARGV[4] .. 'task:' .. id
  if ARGV[3] == '' or redis.call('HGET', key, 'group') == ARGV[3] then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), id)
    redis.call('HSET', key, 'state', 'running')
    return id
  end
end
return nil
"""


class RedisQueue(Queue):
    def __init__(self, url: str):
        self.url = url
        self.client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5,
                                           health_check_interval=30)
        self._take = self.client.register_script(TAKE)

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except redis.RedisError as exc:
            raise SenError(f"the job queue at {self.url} is unreachable: {exc}") from exc

    def put(self, kind: str, payload: dict, group: str = "") -> str:
        task_id = uuid.uuid4().hex

        def write():
            pipe = self.client.pipeline()
            pipe.hset(PREFIX + "task:" + task_id, mapping={
                "kind": kind, "group": group, "state": "queued", "attempts": 0,
                "payload": json.dumps(payload, ensure_ascii=False)})
            pipe.zadd(PREFIX + "due", {task_id: time.time()})
            pipe.incr(PREFIX + "pending:" + group)
            pipe.execute()
        self._call(write)
        return task_id

    def take(self, lease: float = 600, group: str | None = None) -> Task | None:
        task_id = self._call(self._take, [PREFIX + "due"],
                             [time.time(), lease, group or "", PREFIX])
        if task_id is None:
            return None
        data = self._call(self.client.hgetall, PREFIX + "task:" + task_id.decode())
        return Task(id=task_id.decode(), kind=data[b"kind"].decode(),
                    group=data[b"group"].decode(), payload=json.loads(data[b"payload"]),
                    attempts=int(data[b"attempts"]))

    def done(self, task: Task) -> None:
        def forget():
            pipe = self.client.pipeline()
            pipe.zrem(PREFIX + "due", task.id)
            pipe.delete(PREFIX + "task:" + task.id)
            pipe.decr(PREFIX + "pending:" + task.group)
            pipe.execute()
        self._call(forget)

    def fail(self, task: Task, error: str) -> bool:
        attempts = task.attempts + 1
        retry = attempts < MAX_ATTEMPTS

        def record():
            pipe = self.client.pipeline()
            pipe.hset(PREFIX + "task:" + task.id, mapping={
                "attempts": attempts, "error": error, "state": "queued" if retry else "failed"})
            if retry:
                pipe.zadd(PREFIX + "due", {task.id: time.time() + retry_delay(attempts)})
            else:
                pipe.zrem(PREFIX + "due", task.id)
                pipe.sadd(PREFIX + "failed", task.id)
                pipe.decr(PREFIX + "pending:" + task.group)
            pipe.execute()
        self._call(record)
        return retry

    def _tasks(self, ids) -> list[tuple[str, dict]]:
        pipe = self.client.pipeline()
        for task_id in ids:
            pipe.hgetall(PREFIX + "task:" + task_id.decode())
        return [(i.decode(), d) for i, d in zip(ids, pipe.execute(), strict=True) if d]

    def pending(self, group: str) -> int:
        return int(self._call(self.client.get, PREFIX + "pending:" + group) or 0)

    def failed(self, group: str | None = None) -> list[Task]:
        ids = list(self._call(self.client.smembers, PREFIX + "failed"))
        return [Task(id=i, kind=d[b"kind"].decode(), group=d[b"group"].decode(),
                     payload=json.loads(d[b"payload"]), attempts=int(d[b"attempts"]),
                     error=d.get(b"error", b"").decode())
                for i, d in self._call(self._tasks, ids)
                if group is None or d[b"group"].decode() == group]

    def clear(self) -> None:
        keys = self._call(self.client.keys, PREFIX + "*")
        if keys:
            self._call(self.client.delete, *keys)

    @contextlib.contextmanager
    def lock(self, name: str, ttl: float = 600):
        lock = self.client.lock(PREFIX + "lock:" + name, timeout=ttl, blocking_timeout=ttl)
        if not self._call(lock.acquire):
            raise SenError(f"could not lock {name!r} within {ttl:.0f} s")
        try:
            yield
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:
                pass  # the lock expired: another worker may hold it now; nothing to undo

    def close(self) -> None:
        self.client.close()
