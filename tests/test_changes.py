"""IIIF Change Discovery: Create, Update and Delete of public manifests, newest last."""

from __future__ import annotations

from opendata import changes
from repository.web import create_app
from tests.test_ingest import folder, good_row, ingest_rows  # noqa: F401  (fixtures)


def activities(client) -> list[tuple[str, str]]:
    stream = client.get("/iiif/activity/all-changes").get_json()
    found = []
    url = stream["first"]["id"]
    while url:
        page = client.get(url.replace("http://sen.test", "")).get_json()
        found += [(a["type"], a["object"]["id"].split("/")[-2]) for a in page["orderedItems"]]
        url = page.get("next", {}).get("id")
    assert stream["totalItems"] == len(found)
    return found


def test_the_public_life_of_items_is_streamed(repo, folder):  # noqa: F811
    client = create_app(repo.settings, repo=repo).test_client()
    ingest_rows(repo, folder, [good_row(), good_row(identifier="secret", access="internal")])
    assert activities(client) == [("Create", "dt-0001")]  # never-public items never appear
    ingest_rows(repo, folder, [good_row(title="Tên mới")])
    ingest_rows(repo, folder, [good_row(title="Tên mới", access="restricted")])
    ingest_rows(repo, folder, [good_row(title="Tên mới")])
    assert activities(client) == [("Create", "dt-0001"), ("Update", "dt-0001"),
                                  ("Delete", "dt-0001"), ("Create", "dt-0001")]
    top = client.get("/iiif/collection/top").get_json()
    assert top["seeAlso"][0]["id"].endswith("/iiif/activity/all-changes")
    assert client.get("/iiif/activity/all-changes/page/9").status_code == 404
    # The stream is derived from storage: a rebuild gives it back unchanged.
    before = activities(client)
    repo.rebuild_indexes()
    assert activities(client) == before


def test_pages_link_to_each_other(repo, folder, monkeypatch):  # noqa: F811
    monkeypatch.setattr(changes, "PAGE_SIZE", 2)
    client = create_app(repo.settings, repo=repo).test_client()
    ingest_rows(repo, folder, [good_row(identifier=f"item-{n}") for n in range(5)])
    stream = client.get("/iiif/activity/all-changes").get_json()
    assert stream["last"]["id"].endswith("/page/2")
    last = client.get("/iiif/activity/all-changes/page/2").get_json()
    assert last["prev"]["id"].endswith("/page/1") and "next" not in last
    assert last["startIndex"] == 4 and len(last["orderedItems"]) == 1
