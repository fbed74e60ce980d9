"""kill -9 at any moment of an ingest leaves a valid OCFL root; a re-run completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.derivatives import is_current
from ingest.sample import write_sample
from repository.repo import Repository
from tests.conftest import make_settings, ocfl_problems

pytestmark = pytest.mark.integration
SEN = Path(sys.executable).with_name("sen")


def sen(data: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, SEN_DATA_DIR=str(data), SEN_BASE_URL="http://sen.test")
    return subprocess.Popen([str(SEN), *args, "--quiet"] if args[0] == "ingest" else
                            [str(SEN), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_kill_during_ingest_then_rerun(tmp_path):
    source = write_sample(tmp_path / "sample").parent
    data = tmp_path / "data"
    assert sen(data, "init").wait() == 0
    # Kill at moments spread over validation, OCFL commits, pyramids and indexing.
    for delay in (0.4, 0.8, 1.0, 1.2, 1.35, 1.5, 1.65, 1.8, 2.0):
        proc = sen(data, "ingest", str(source))
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert ocfl_problems(data / "storage" / "ocfl") == [], f"after kill at {delay}s"
    finish = sen(data, "ingest", str(source))
    out, err = finish.communicate()
    assert finish.returncode == 0, err
    repo = Repository(make_settings(data))
    try:
        ids = sorted(repo.ocfl.ids())
        assert len(ids) == 7
        for item_id in ids:
            inventory = repo.ocfl.inventory(item_id)
            assert inventory["head"] == "v1"  # interrupted runs never made extra versions
            assert is_current(repo, item_id, inventory)
            assert repo.catalogue.get_item(item_id) is not None
        assert repo.search.count() == 7
        assert list((data / "storage" / ".tmp").iterdir()) == []
    finally:
        repo.close()
    again = sen(data, "ingest", str(source))
    out, err = again.communicate()
    assert again.returncode == 0 and "7 unchanged" in out
