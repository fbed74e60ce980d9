"""Object storage on any S3 API (AWS, MinIO, Ceph RGW, S3Proxy), through boto3.

Keys live under ``prefix`` in one bucket. Every request is retried with back-off by
botocore (the "standard" mode: connection errors, throttling and 5xx answers), and
every failure that is not a missing key becomes a :class:`StorageError` naming the
key and the endpoint, so an operator knows which server to look at.

S3 has no rename, so :meth:`publish` cannot swap a whole tree in at once as
LocalStorage does. It is journaled instead: see :meth:`S3Storage.publish`. The
journals and their backups live under ``{prefix}/.tmp/``, which :meth:`list` never
shows, like LocalStorage's scratch folder. Ages are measured with the server's
clock (its ``Date`` header against ``LastModified``), so writers on machines whose
clocks disagree still agree on which journal is abandoned.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from repository.errors import ConfigError, NotFound, StorageError
from repository.storage import ObjectInfo, Storage, check_key

log = logging.getLogger(__name__)

MiB = 1 << 20
#: Scratch area under the storage prefix, never listed: journals of publishes under way.
TMP = ".tmp"
JOURNALS = f"{TMP}/journal"
#: A publish in progress rewrites its journal this often (seconds), so that recover()
#: run by another writer never takes it for abandoned, however long the upload.
HEARTBEAT = 60
_MISSING = ("NoSuchKey", "NotFound", "404")
_BODY_ERRORS = (IncompleteReadError, ReadTimeoutError, ResponseStreamingError)


class S3Storage(Storage):
    """Storage in ``s3://bucket/prefix``.

    ``multipart_threshold``: files at least this large are sent in parts of that size,
    several at once, each part retried alone; the object appears only when the upload
    completes, so readers never see part of it. ``workers`` bounds the files of one
    publish sent in parallel. ``page_size`` is the keys asked for per LIST request.
    """

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str = "",
                 region: str = "", access_key: str = "", secret_key: str = "",
                 max_attempts: int = 6, connect_timeout: float = 10, read_timeout: float = 60,
                 multipart_threshold: int = 16 * MiB, workers: int = 4, page_size: int = 1000):
        prefix = prefix.strip("/")
        if not bucket:
            raise ConfigError("an S3 storage URL needs a bucket: s3://bucket/prefix")
        if prefix:
            try:
                check_key(prefix)
            except StorageError:
                raise ConfigError(f"invalid S3 storage prefix {prefix!r}") from None
        if bool(access_key) != bool(secret_key):
            raise ConfigError("set both the S3 access key and the secret key, or neither")
        self.bucket, self.prefix = bucket, prefix
        self.workers, self.page_size = workers, page_size
        config = Config(retries={"mode": "standard", "total_max_attempts": max_attempts},
                        connect_timeout=connect_timeout, read_timeout=read_timeout,
                        tcp_keepalive=True, max_pool_connections=max(10, workers * (workers + 1)))
        # A session of our own: boto3's default session is not safe to share between threads.
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
            config=config)
        self.endpoint = self.client.meta.endpoint_url
        self.transfer = TransferConfig(multipart_threshold=multipart_threshold,
                                       multipart_chunksize=max(multipart_threshold, 5 * MiB),
                                       max_concurrency=workers)

    @classmethod
    def from_url(cls, url: str, settings=None, **options) -> S3Storage:
        """``s3://bucket/prefix``; endpoint, region and keys from ``settings`` when given."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise ConfigError(f"invalid S3 storage URL {url!r}; expected s3://bucket/prefix")
        if settings is not None:
            options = {"endpoint_url": settings.s3_endpoint_url, "region": settings.s3_region,
                       "access_key": settings.s3_access_key,
                       "secret_key": settings.s3_secret_key, **options}
        return cls(parts.netloc, parts.path, **options)

    def __repr__(self) -> str:
        return f"S3Storage('s3://{self.bucket}/{self.prefix}' at {self.endpoint})"

    # Keys and errors -----------------------------------------------------------------
    def _full(self, key: str) -> str:
        key = check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    @property
    def _root(self) -> str:
        return f"{self.prefix}/" if self.prefix else ""

    @contextmanager
    def _errors(self, action: str, key: str):
        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") in _MISSING:
                raise NotFound(f"no object {key!r} in storage") from None
            detail = f"{error.get('Code', '?')}: {error.get('Message', exc)}"
            raise StorageError(self._failed(action, key, detail)) from exc
        except (BotoCoreError, Boto3Error) as exc:
            raise StorageError(self._failed(action, key, str(exc))) from exc

    def _failed(self, action: str, key: str, detail: str) -> str:
        return (f"S3 {action} of {key!r} (s3://{self.bucket}/{self._root}{key}) at "
                f"{self.endpoint} failed: {detail}")

    # Reading -------------------------------------------------------------------------
    def get(self, key: str) -> bytes:
        return self._read(key)

    def get_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            self.stat(key)
            return b""
        return self._read(key, start, length)

    def _read(self, key: str, start: int = 0, length: int | None = None) -> bytes:
        """GET, the range only when asked; a body cut short is fetched again (twice at most),
        since botocore's retries end when the headers have arrived."""
        extra = {} if length is None else {"Range": f"bytes={start}-{start + length - 1}"}
        with self._errors("GET", key):
            for attempt in range(3):
                try:
                    response = self.client.get_object(Bucket=self.bucket, Key=self._full(key),
                                                      **extra)
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                        return b""  # the object exists and ends before ``start``
                    raise
                try:
                    data = response["Body"].read()
                except _BODY_ERRORS:
                    if attempt == 2:
                        raise
                    continue
                if length is not None and "ContentRange" not in response:
                    data = data[start:start + length]  # a server that ignored Range
                return data

    def stat(self, key: str) -> ObjectInfo:
        with self._errors("HEAD", key):
            head = self.client.head_object(Bucket=self.bucket, Key=self._full(key))
        return ObjectInfo(key=key, size=head["ContentLength"],
                          mtime=head["LastModified"].timestamp(), etag=head["ETag"].strip('"'))

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys in S3's order (by UTF-8 bytes, as LocalStorage sorts), page by page."""
        prefix = prefix.strip("/")
        base = f"{self._full(prefix)}/" if prefix else self._root
        scratch = f"{self._root}{TMP}/"
        for full in self._list_full(base):
            if not full.startswith(scratch) and not full.endswith("/"):  # no folder markers
                yield full[len(self._root):]

    def _list_full(self, base: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=base, PaginationConfig={"PageSize": self.page_size})
        with self._errors("LIST", base[len(self._root):] or "/"):
            for page in pages:
                for obj in page.get("Contents", ()):
                    yield obj["Key"]

    # Writing -------------------------------------------------------------------------
    def put(self, key: str, data: bytes) -> None:
        """One PUT (a multipart upload when large): S3 shows an object whole or not at all."""
        with self._errors("PUT", key):
            if len(data) >= self.transfer.multipart_threshold:
                self.client.upload_fileobj(io.BytesIO(data), self.bucket, self._full(key),
                                           Config=self.transfer)
            else:
                self.client.put_object(Bucket=self.bucket, Key=self._full(key), Body=data)

    def put_file(self, key: str, path: Path) -> None:
        self._upload(Path(path), key)

    def _upload(self, path: Path, key: str) -> None:
        # botocore sends a CRC checksum the server verifies, so a damaged transfer is refused.
        with self._errors("PUT", key):
            self.client.upload_file(str(path), self.bucket, self._full(key), Config=self.transfer)

    def _copy(self, source: str, key: str) -> None:
        with self._errors("COPY", key):
            self.client.copy({"Bucket": self.bucket, "Key": self._full(source)}, self.bucket,
                             self._full(key), Config=self.transfer)

    def delete(self, key: str) -> None:
        with self._errors("DELETE", key):
            self.client.delete_object(Bucket=self.bucket, Key=self._full(key))

    def delete_prefix(self, prefix: str) -> None:
        base = self._full(prefix.strip("/"))
        self._delete_full(self._list_full(f"{base}/"))

    def _delete_full(self, keys: Iterable[str]) -> None:
        """Batched DeleteObjects, 1000 keys a request."""
        batch: list[str] = []
        for key in [*keys, None]:
            if key is not None:
                batch.append(key)
            if batch and (key is None or len(batch) == 1000):
                with self._errors("DELETE", batch[0][len(self._root):]):
                    answer = self.client.delete_objects(
                        Bucket=self.bucket,
                        Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
                if answer.get("Errors"):
                    first = answer["Errors"][0]
                    raise StorageError(self._failed("DELETE", first.get("Key", "?"),
                                                    first.get("Message", "")))
                batch = []

    # Publishing ----------------------------------------------------------------------
    def publish(self, staged: Path, prefix: str) -> None:
        """Overlay the files of ``staged`` onto ``prefix``, all or nothing after recover().

        S3 can only replace one object at a time, so the tree is written in an order
        readers can rely on, under a journal a later :meth:`recover` can undo:

        1. the journal ``.tmp/journal/<id>.json`` lists every key about to be written,
           the top-level ones (the commit point) apart, and the keys that already exist;
           it is rewritten every minute while files go up, to show it is alive;
        2. each existing key is copied to ``.tmp/journal/<id>/<key>`` (in OCFL only the
           root inventory and its sidecar are ever replaced);
        3. the files below the top level go up, several at a time;
        4. the top-level files go up last, one by one, a Namaste declaration (``0=…``)
           after the others: until the root ``inventory.json`` of an OCFL object
           changes, readers see the previous version whole;
        5. the backups, then the journal are deleted: the publish has happened.

        A publish that fails is undone at once if the server still answers; one that
        dies with its process (or its server) leaves its journal, and recover() undoes it.
        Two publishes to the same prefix must not overlap (OCFL commits one version of
        an object at a time).
        """
        staged, dest = Path(staged), check_key(prefix.strip("/"))
        try:
            files = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*")
                           if p.is_file())
            nested = [f for f in files if "/" in f]
            # A Namaste declaration ("0=ocfl_object_1.1") makes a folder an OCFL object for
            # anyone scanning the root: it goes after the inventory it announces.
            top = sorted((f for f in files if "/" not in f), key=lambda f: (f[:2] == "0=", f))
            existing = set(self.list(dest))
            journal_id = uuid.uuid4().hex
            journal = {"prefix": dest, "commit": [f"{dest}/{f}" for f in top],
                       "keys": [f"{dest}/{f}" for f in nested],
                       "replaced": [f"{dest}/{f}" for f in files if f"{dest}/{f}" in existing]}
            journal_key = f"{JOURNALS}/{journal_id}.json"
            body = json.dumps(journal, indent=1).encode()
            self.put(journal_key, body)
            written = time.monotonic()

            def alive() -> None:
                nonlocal written
                if time.monotonic() - written > HEARTBEAT:
                    self.put(journal_key, body)
                    written = time.monotonic()

            try:
                for key in journal["replaced"]:
                    self._copy(key, f"{JOURNALS}/{journal_id}/{key}")
                self._upload_all([(staged / f, f"{dest}/{f}") for f in nested], alive)
                for f in top:
                    alive()
                    self._upload(staged / f, f"{dest}/{f}")
                self._finish(journal_id)
            except Exception:
                try:
                    self._roll_back(journal_id, journal)
                except Exception as exc:  # the server is gone: recover() will do it
                    log.warning("publish of %s left journal %s for recover(): %s",
                                dest, journal_id, exc)
                raise
        finally:
            shutil.rmtree(staged, ignore_errors=True)

    def _upload_all(self, pairs: list[tuple[Path, str]], alive) -> None:
        """Upload in parallel, calling ``alive`` as files finish and at least every
        HEARTBEAT seconds, even while one large master takes long."""
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            pending = {pool.submit(self._upload, path, key) for path, key in pairs}
            try:
                while pending:
                    done, pending = wait(pending, timeout=HEARTBEAT, return_when=FIRST_COMPLETED)
                    for future in done:
                        future.result()
                    alive()
            except BaseException:
                for future in pending:
                    future.cancel()
                raise

    def _finish(self, journal_id: str) -> None:
        """The journal goes last: while it exists, recover() would undo the publish."""
        self._delete_full(self._list_full(self._full(f"{JOURNALS}/{journal_id}") + "/"))
        self.delete(f"{JOURNALS}/{journal_id}.json")

    def _roll_back(self, journal_id: str, journal: dict) -> None:
        """Put back the tree a journaled publish found. Safe to repeat.

        The commit point goes first (its old bytes restored, or the new object removed),
        so readers stop seeing the new state before the content it names disappears.
        A replaced key without a backup was never overwritten: backups are all taken
        before the first upload.
        """
        replaced = set(journal["replaced"])
        backups = {full[len(self._root):] for full in
                   self._list_full(self._full(f"{JOURNALS}/{journal_id}") + "/")}
        for group in (journal["commit"], journal["keys"]):
            stray = []
            for key in group:
                backup = f"{JOURNALS}/{journal_id}/{key}"
                if key not in replaced:
                    stray.append(self._full(key))
                elif backup in backups:
                    self._copy(backup, key)
            self._delete_full(stray)
        self._finish(journal_id)

    def recover(self, older_than: float = 3600) -> None:
        """Undo every publish whose journal is older than ``older_than`` seconds.

        A journal left behind means its publish never finished, whatever it had written:
        its caller was told it failed (or died), and the staged files are gone, so the
        only consistent state to return to is the one before it. Without this an OCFL
        object could keep a ``vN/`` folder its inventory does not name, which OCFL
        validators reject. A live publish rewrites its journal every minute, so other
        writers may run meanwhile. Multipart uploads begun that long ago and never
        completed are aborted too: invisible, but the store keeps their parts.
        """
        journals = self._full(JOURNALS) + "/"
        for full, age in list(self._ages(journals, "list_objects_v2", "Contents")):
            name = full[len(journals):]
            if "/" in name or not name.endswith(".json") or age < older_than:
                continue
            try:
                journal = json.loads(self.get(full[len(self._root):]))
            except NotFound:
                continue  # finished or undone meanwhile
            log.warning("undoing the unfinished publish of %s (journal %s)",
                        journal["prefix"], name)
            self._roll_back(name[: -len(".json")], journal)
        try:
            for upload, age in self._ages(self._root, "list_multipart_uploads", "Uploads"):
                if age >= older_than:
                    with self._errors("ABORT", upload["Key"][len(self._root):]):
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        except StorageError as exc:
            if not isinstance(exc.__cause__, ClientError) or exc.__cause__.response.get(
                    "Error", {}).get("Code") != "NotImplemented":
                raise

    def _ages(self, base: str, operation: str, field: str):
        """Listed entries under ``base`` with their age in seconds by the server's clock.

        Yields ``(key, age)`` for objects, ``(upload, age)`` for multipart uploads.
        """
        pages = self.client.get_paginator(operation).paginate(Bucket=self.bucket, Prefix=base)
        with self._errors("LIST", base[len(self._root):] or "/"):
            for page in pages:
                date = page.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
                now = parsedate_to_datetime(date) if date else datetime.now(UTC)
                for entry in page.get(field, ()):
                    stamp = entry["LastModified" if field == "Contents" else "Initiated"]
                    age = (now - stamp).total_seconds()
                    yield (entry["Key"] if field == "Contents" else entry), age
