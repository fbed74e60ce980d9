"""Publishing to a real CKAN 2.12 with ckanext-dcat (services/up ckan)."""

from __future__ import annotations

import csv
import os
import uuid

import ckanapi
import pytest
import requests
from rdflib import (
    Graph,
    URIRef,
    namespace,  # not DCAT itself: pytest probes module names, and DCAT warns
)
from rdflib.namespace import DCTERMS, RDF

from ingest import pipeline
from ingest.sample import write_sample
from opendata import ckan, dumps
from repository import links
from repository.repo import Repository
from tests.conftest import make_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def portal():
    url, token = os.environ.get("SEN_TEST_CKAN_URL"), os.environ.get("SEN_TEST_CKAN_TOKEN")
    if not url or not token:
        pytest.fail("SEN_TEST_CKAN_URL is not set: run `services/up` and "
                    "`eval \"$(services/env)\"` first")
    client = ckanapi.RemoteCKAN(url, apikey=token)
    purge_managed(client)
    yield url, token, client
    purge_managed(client)


def purge_managed(client) -> None:
    for name in client.action.package_list():
        if name.startswith("sen-"):
            client.action.dataset_purge(id=name)


def rows(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def rewrite(path, records: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)


@pytest.fixture
def published_repo(tmp_path):
    repo = Repository(make_settings(tmp_path / "data",
                                    base_url=f"http://sen-{uuid.uuid4().hex[:6]}.test"))
    repo.init()
    source = write_sample(tmp_path / "sample")
    pipeline.ingest(repo, source)
    yield repo, source
    repo.close()


def test_publish_republish_change_and_hide(portal, published_repo):
    url, token, client = portal
    repo, source = published_repo
    dry = ckan.publish(repo, url, token, dry_run=True)
    assert len(dry.created) == 3 and not client.action.package_list()  # nothing written

    first = ckan.publish(repo, url, token)
    assert sorted(first.created) == ["sen-anh-va-ban-do", "sen-tai-lieu-co-quy-hiem",
                                     "sen-tai-lieu-dia-chi-dong-thap"]
    dataset = client.action.package_show(id="sen-anh-va-ban-do")
    assert dataset["id"] == ckan.dataset_id(repo, "anh-va-ban-do")
    assert dataset["organization"]["title"] == "Thư viện tỉnh Đồng Tháp"
    resource_ids = {r["name"]: r["id"] for r in dataset["resources"]}

    again = ckan.publish(repo, url, token)
    assert again.writes == 0 and len(again.unchanged) == 3

    # One more photograph in "Ảnh và bản đồ": exactly that dataset is written again,
    # and its resources keep their ids.
    records = rows(source)
    extra = dict(next(r for r in records if r["identifier"] == "dt-anh-0006"))
    extra["identifier"] = "dt-anh-0099"
    rewrite(source, records + [extra])
    pipeline.ingest(repo, source)
    changed = ckan.publish(repo, url, token)
    assert changed.updated == ["sen-anh-va-ban-do"] and changed.writes == 1
    dataset = client.action.package_show(id="sen-anh-va-ban-do")
    assert {r["name"]: r["id"] for r in dataset["resources"]} == resource_ids

    # The only public item of "Tài liệu cổ, quý hiếm" becomes restricted: its dataset goes.
    for record in records:
        if record["identifier"] == "dt-qh-0004":
            record["access"] = "restricted"
    rewrite(source, records + [extra])
    pipeline.ingest(repo, source)
    hidden = ckan.publish(repo, url, token)
    assert hidden.deleted == ["sen-tai-lieu-co-quy-hiem"] and hidden.writes == 1
    assert "sen-tai-lieu-co-quy-hiem" not in client.action.package_list()
    with pytest.raises(ckanapi.NotFound):
        client.action.package_show(id="sen-tai-lieu-co-quy-hiem")


def test_dcat_output_of_ckan_round_trips_sens_metadata(portal, published_repo):
    url, token, _client = portal
    repo, _source = published_repo
    dumps.publish(repo)  # the dumps become distributions, with size and checksum
    ckan.publish(repo, url, token)
    base = repo.settings.public_url
    wanted, _orgs = ckan.wanted_datasets(repo)
    for name, dataset in wanted.items():
        response = requests.get(f"{url}/dataset/{name}.ttl", timeout=30)
        assert response.status_code == 200
        graph = Graph().parse(data=response.content, format="turtle")  # UTF-8 bytes
        collection_id = name.removeprefix("sen-")
        subject = URIRef(links.collection_uri(base, collection_id))
        assert (subject, RDF.type, namespace.DCAT.Dataset) in graph
        assert str(graph.value(subject, DCTERMS.title)) == dataset["title"]
        assert str(graph.value(subject, DCTERMS.description)) == dataset["notes"]
        publisher = graph.value(subject, DCTERMS.publisher)
        assert str(publisher) == next(e["value"] for e in dataset["extras"]
                                      if e["key"] == "publisher_uri")
        distributions = list(graph.objects(subject, namespace.DCAT.distribution))
        assert len(distributions) == len(dataset["resources"])
        downloads = set()
        for distribution in distributions:
            assert str(graph.value(distribution, DCTERMS.license)) == ckan.METADATA_LICENSE_URI
            assert graph.value(distribution, namespace.DCAT.accessURL) is not None
            if graph.value(distribution, namespace.DCAT.downloadURL) is not None:
                downloads.add(str(graph.value(distribution, namespace.DCAT.downloadURL)))
        assert downloads == {links.dump(base, dumps.dump_name(collection_id, extension))
                             for extension in ("nt", "jsonld", "csv")}


def test_ckan_refusals_are_clear_errors(portal, published_repo):
    url, _token, _client = portal
    repo, _source = published_repo
    with pytest.raises(ckan.CkanError) as exc:
        ckan.publish(repo, url, "not-a-token")
    assert "not authorised" in str(exc.value) or "refused" in str(exc.value)
