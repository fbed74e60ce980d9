"""The S3 server goes away in the middle of an OCFL commit, and comes back.

The real server of ``services/up s3`` is stopped with ``services/down s3`` from inside
the upload (between two parts of a multipart master, or between the root inventory
and its sidecar), then started again. The commit must fail with a StorageError that
names the endpoint, recover() must leave the previous version whole (and valid for
ocfl-py), and the same commit run again must complete.
"""

import subprocess
import time
from pathlib import Path

import pytest

from repository.errors import StorageError
from repository.ocfl import Ocfl
from repository.storage.s3 import MiB
from tests.conftest import ocfl_problems
from tests.test_storage_ocfl import commit, ocfl_root, s3_storage, scratch, wipe

pytestmark = pytest.mark.integration
SERVICES = Path(__file__).resolve().parents[1] / "services"


def s3_service(action: str) -> None:
    subprocess.run([SERVICES / action, "s3"], check=True, capture_output=True, timeout=120)


@pytest.mark.parametrize("moment", ["second part of a master", "root inventory sidecar"])
def test_s3_going_away_mid_commit(tmp_path, moment):
    # Few, quick retries: the server stays away for longer than they last.
    storage = s3_storage(max_attempts=2, connect_timeout=2, read_timeout=10)
    ocfl = Ocfl(storage, tmp_path / "staging")
    ocfl.init()
    files = {"record.json": b'{"v": 1}', "masters/0001.tif": b"one"}
    assert commit(ocfl, tmp_path, "item", files) == "v1"
    before = {key: storage.get(key) for key in storage.list()}
    big = bytes(range(256)) * (11 * MiB // 256)  # three parts of 5 MiB at most
    files.update({"record.json": b'{"v": 2}', "masters/0002.tif": big,
                  "masters/0003.tif": b"three"})
    sidecar = f"{storage._root}{ocfl.object_root('item')}/inventory.json.sha512"
    stopped = []

    def stop_server(params, event_name, **_):
        operation = event_name.rsplit(".", 1)[-1]
        if not stopped and (
                (moment.startswith("second") and operation == "UploadPart"
                 and params.get("PartNumber") == 2)
                or (moment.startswith("root") and operation == "PutObject"
                    and params.get("Key") == sidecar)):
            stopped.append(time.monotonic())
            s3_service("down")

    storage.client.meta.events.register("before-parameter-build.s3", stop_server)
    try:
        with pytest.raises(StorageError) as failure:
            commit(ocfl, tmp_path, "item", files)
        assert stopped, "the server was never stopped"
        assert storage.endpoint in str(failure.value) and "S3 PUT of 'ocfl/" in str(failure.value)
        assert time.monotonic() - stopped[0] < 15  # retries give up in seconds, not minutes
    finally:
        storage.client.meta.events.unregister("before-parameter-build.s3", stop_server)
        s3_service("up")
    try:
        assert scratch(storage) != []  # the journal: the server could not be cleaned up
        storage.recover(older_than=0)
        assert {key: storage.get(key) for key in storage.list()} == before
        assert scratch(storage) == []
        assert ocfl.inventory("item")["head"] == "v1"
        assert ocfl_problems(ocfl_root(storage)) == []
        assert commit(ocfl, tmp_path, "item", files) == "v2"  # the retry completes
        assert ocfl.read("item", "masters/0002.tif") == big
        assert ocfl.verify("item") == []
        assert ocfl_problems(ocfl_root(storage)) == []
    finally:
        wipe(storage)
