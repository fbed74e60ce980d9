"""SolrCloud: two nodes, a collection of two shards with two replicas each; one node stops
and search still answers with every document, through whichever node is left.

The cluster is started by ``services/solr/cloud`` (Solr's MiniSolrCloudCluster with an
embedded ZooKeeper) and driven through its stdin: ``stop N``, ``start N``, ``exit``.
"""

import queue
import subprocess
import threading
from pathlib import Path

import pytest
import requests

from repository.errors import SearchUnavailable
from repository.search import Query, SearchDocument
from repository.search.solr import SolrSearch

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]
DOCS = 40


class Cloud:
    """The launcher's process; its stdout lines are read by a thread into a queue."""

    def __init__(self, base: Path, nodes: int):
        self.proc = subprocess.Popen([str(ROOT / "services" / "solr" / "cloud"), str(nodes),
                                      str(base)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.nodes: list[str] = []
        while (line := self.expect(("NODE", "READY"), timeout=300)) != "READY":
            self.nodes.append(line.split()[2])

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def expect(self, prefixes: tuple[str, ...], timeout: float) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"the Solr cloud launcher said nothing of {prefixes} in {timeout}s")
            if line is None:
                pytest.fail("the Solr cloud launcher ended; see .services/logs/solr-cloud.log")
            if line.startswith("ERROR"):
                pytest.fail(f"the Solr cloud launcher: {line}")
            if line.startswith(prefixes):
                return line

    def command(self, command: str) -> str:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.expect(("OK",), timeout=120)

    def admin(self, node: int, **params) -> dict:
        response = requests.get(f"{self.nodes[node]}/admin/collections",
                                params={**params, "wt": "json"}, timeout=180)
        assert response.status_code == 200, response.text
        return response.json()

    def close(self):
        try:
            if self.proc.poll() is None:
                self.command("exit")
            self.proc.wait(timeout=60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    cluster = Cloud(tmp_path_factory.mktemp("solr-cloud"), nodes=2)
    try:
        cluster.admin(0, action="CREATE", name="sen", numShards=2, replicationFactor=2,
                      **{"collection.configName": "sen", "waitForFinalState": "true"})
        yield cluster
    finally:
        cluster.close()


def documents():
    return [SearchDocument(
        id=f"dt-{i:03d}", access="public", created=f"2026-01-{i % 28 + 1:02d}",
        title_sort=f"Tài liệu {i:03d}", date_start=1900 + i,
        text={"title": f"Tài liệu địa chí số {i}", "description": "Đồng Tháp, Sa Đéc"},
        facets={"type": ["book" if i % 2 else "map"], "decade": [f"{1900 + i // 10 * 10}"]})
        for i in range(DOCS)]


def test_search_answers_with_every_document_when_a_node_stops(cloud):
    shards = cloud.admin(1, action="CLUSTERSTATUS", collection="sen")[
        "cluster"]["collections"]["sen"]["shards"]
    # Each shard has a replica on each node, so either node alone holds everything.
    assert len(shards) == 2
    for shard in shards.values():
        assert len({r["node_name"] for r in shard["replicas"].values()}) == 2

    urls = [f"{node}/sen" for node in cloud.nodes]
    index = SolrSearch(urls)
    assert index.add(documents()) == DOCS
    expected = {d.id for d in documents()}

    def check(idx):
        results = idx.search(Query(text="dong thap", page_size=DOCS * 2, sort="date"))
        assert results.total == DOCS and {h.id for h in results.hits} == expected
        assert dict(results.facets["type"]) == {"book": DOCS // 2, "map": DOCS // 2}
        assert idx.count() == DOCS

    check(index)
    assert cloud.command("stop 0") == "OK stop 0"
    # The first URL is now dead: the index fails over to the second node, every time.
    check(index)
    check(SolrSearch(urls))
    with pytest.raises(SearchUnavailable, match=urls[0]):
        SolrSearch(urls[:1]).search(Query())

    assert cloud.command("start 0").startswith("OK start 0")
    check(SolrSearch(urls[:1]))
    index.close()
