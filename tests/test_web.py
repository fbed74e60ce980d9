"""The portal, the JSON API and IIIF, called over HTTP as readers and harvesters do."""

from __future__ import annotations

import json

import jsonschema
import pytest

from repository.web import create_app
from tests.conftest import RESTRICTED_IDS, SHARED


@pytest.fixture(scope="module")
def client(library):
    return create_app(library.settings, repo=library).test_client()


@pytest.fixture(scope="module")
def iiif_schema():
    return json.loads((SHARED / "iiif" / "iiif_3_0.schema.json").read_text())


def local(url: str) -> str:
    """A URL the manifests publish, as a path for the test client."""
    return url.replace("http://sen.test", "")


def test_home_is_vietnamese_first_with_an_english_switch(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in page and "Bộ sưu tập" in page and "Mới cập nhật" in page
    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert "Recently added" in english.get_data(as_text=True)
    assert "sen_lang=en" in english.headers["Set-Cookie"]
    # The choice is remembered by the cookie the client now holds.
    assert "Recently added" in client.get("/").get_data(as_text=True)
    client.get("/?lang=vi")


def api_ids(client, query: str, **params) -> list[str]:
    response = client.get("/api/search", query_string={"q": query, **params})
    assert response.status_code == 200
    return [hit["id"] for hit in response.get_json()["items"]]


def test_search_folds_vietnamese_and_returns_manifest_links(client):
    with_marks = api_ids(client, "Đồng Tháp")
    assert with_marks and api_ids(client, "dong thap") == with_marks
    assert api_ids(client, "ĐỒNG THÁP") == with_marks
    sadec = api_ids(client, "sa dec")
    assert sadec and api_ids(client, "Sa Đéc") == sadec
    hit = client.get("/api/search?q=journal").get_json()["items"][0]
    assert hit["id"] == "peraire-1905"
    assert hit["manifest"] == "http://sen.test/iiif/peraire-1905/manifest"
    assert hit["title"].startswith("Nhật ký")


def test_place_aliases_and_facets(client, library):
    # The French name finds items tagged with a place of the authority called Sa Đéc.
    from repository.places import default_authority

    found = api_ids(client, "sadec")
    assert found
    for item_id in found:
        places = [default_authority().get(p["id"]) for p in
                  library.record(item_id).get("spatial", []) if p.get("id")]
        assert any("Sadec" in place.all_names() for place in places), item_id
    result = client.get("/api/search?q=&type=photograph").get_json()
    assert result["items"] and all(i["type"] == "photograph" for i in result["items"])
    facets = client.get("/api/search?q=").get_json()["facets"]
    assert {f["value"] for f in facets["type"]} >= {"photograph", "book", "manuscript"}
    decades = {f["value"]: f["count"] for f in facets["decade"]}
    assert decades.get("1790") == 1  # the 1796 woodblock book


def test_search_page_renders_results_facets_and_paging(client):
    page = client.get("/search?q=&sort=title").get_data(as_text=True)
    assert "Lọc kết quả" in page and 'type="checkbox"' in page
    assert "Nhật ký du hành" in page
    assert client.get("/search?page=abc").status_code == 400


def test_item_page_has_viewer_metadata_citation_and_manifest(client):
    page = client.get("/items/peraire-1905").get_data(as_text=True)
    assert 'data-manifest="http://sen.test/iiif/peraire-1905/manifest"' in page
    assert "/vendor/mirador/mirador.min.js" in page
    assert "Trích dẫn" in page and "Peraire. Nhật ký du hành" in page
    assert "Bibliothèque Sébert" in page
    assert client.get("/vendor/mirador/mirador.min.js").status_code == 200


def test_record_api(client):
    record = client.get("/api/items/peraire-1905").get_json()
    assert record["identifier"] == "peraire-1905"
    assert record["title"]["fr"] == ["Journal de voyage en Indochine"]
    assert client.get("/api/items/nope").status_code == 404


def walk_collection(client, url: str, seen: set) -> list[str]:
    data = client.get(local(url)).get_json()
    manifests = []
    for item in data["items"]:
        if item["type"] == "Collection" and item["id"] not in seen:
            seen.add(item["id"])
            manifests += walk_collection(client, item["id"], seen)
        elif item["type"] == "Manifest":
            manifests.append(item["id"])
    return manifests


def test_top_collection_reaches_every_public_manifest_and_all_validate(client, library,
                                                                        iiif_schema):
    top = client.get("/iiif/collection/top")
    assert top.headers["Access-Control-Allow-Origin"] == "*"
    jsonschema.validate(top.get_json(), iiif_schema)
    manifests = walk_collection(client, "/iiif/collection/top", set())
    public = {i for i in library.catalogue.item_ids() if library.access_of(i) == "public"}
    assert {m.split("/")[-2] for m in manifests} == public
    for url in manifests:
        response = client.get(local(url))
        assert response.status_code == 200
        manifest = response.get_json()
        jsonschema.validate(manifest, iiif_schema)
        assert manifest["requiredStatement"] and manifest["provider"]
        assert set(manifest["label"]) >= {"vi", "en"}
        service = manifest["items"][0]["items"][0]["items"][0]["body"]["service"][0]
        info = client.get(local(service["id"]) + "/info.json")
        assert info.status_code == 200 and info.get_json()["profile"] == "level2"
    for cid in {m.split("/")[-1] for m in walk_collection_ids(client)}:
        jsonschema.validate(client.get(f"/iiif/collection/{cid}").get_json(), iiif_schema)


def walk_collection_ids(client) -> list[str]:
    return [i["id"] for i in client.get("/iiif/collection/top").get_json()["items"]
            if i["type"] == "Collection"]


def test_tiles_are_served_through_the_portal(client):
    info = client.get("/iiif/image/peraire-1905~1/info.json").get_json()
    assert info["width"] > 3000 and info["tiles"][0]["width"] == 256
    tile = client.get("/iiif/image/peraire-1905~1/0,0,512,512/256,/0/default.jpg")
    assert tile.status_code == 200 and tile.data[:3] == b"\xff\xd8\xff"
    assert client.get("/iiif/image/peraire-1905~99/info.json").status_code == 404
    assert client.get("/iiif/image/peraire-1905/info.json").status_code == 404


def test_the_image_node_serves_public_images_only(library):
    """``sen serve-images``: the image server alone, under its own prefix (no portal
    around it), answers as the portal's does, and hidden items' images stay hidden."""
    from werkzeug.test import Client

    from repository.web.images import image_app

    node = Client(image_app(library, "/iiif/image"))
    tile = node.get("/iiif/image/peraire-1905~1/0,0,512,512/256,/0/default.jpg")
    assert tile.status_code == 200 and tile.data[:3] == b"\xff\xd8\xff"
    assert node.get("/iiif/image/peraire-1905~1/info.json").get_json()["id"] == \
        "http://localhost/iiif/image/peraire-1905~1"
    assert node.get("/items/peraire-1905").status_code == 404  # only images here
    for item_id in RESTRICTED_IDS:
        for path in [f"/iiif/image/{item_id}~1/info.json",
                     f"/iiif/image/{item_id}~1/full/max/0/default.jpg",
                     f"/iiif/image/{item_id}~1/0,0,256,256/256,/0/default.jpg",
                     f"/iiif/image/{item_id}~1/0,0,256,256/256,256/0/default.jpg"]:
            assert node.get(path).status_code == 404, path


@pytest.mark.parametrize("item_id", RESTRICTED_IDS)
def test_restricted_items_never_leak_through_any_route(client, library, item_id):
    title = library.record(item_id)["title"]["vi"][0]
    hidden = [f"/items/{item_id}", f"/api/items/{item_id}", f"/iiif/{item_id}/manifest",
              f"/iiif/image/{item_id}~1/info.json", f"/iiif/image/{item_id}~1",
              f"/iiif/image/{item_id}~1/full/max/0/default.jpg",
              f"/iiif/image/{item_id}~1/0,0,256,256/256,/0/default.jpg"]
    for path in hidden:
        response = client.get(path)
        assert response.status_code == 404, path
        assert title not in response.get_data(as_text=True)
    # Not listed, searched or counted anywhere.
    pages = ["/", "/collections/", "/search?q=", "/api/search?q=", "/api/collections",
             "/iiif/collection/top", "/search?q=sa+dec", "/api/search?q=sa+dec&fuzzy=always"]
    for path in pages:
        body = client.get(path).get_data(as_text=True)
        assert item_id not in body and title not in body, path
    # Searching for its exact title finds nothing (the page only echoes the query).
    assert item_id not in api_ids(client, title)
    assert item_id not in client.get("/search", query_string={"q": title}).get_data(
        as_text=True)
    assert client.get("/collections/gia-pha").status_code == 404
    assert client.get("/iiif/collection/gia-pha").status_code == 404
    facets = client.get("/api/search?q=").get_json()["facets"]
    assert "gia-pha" not in {f["value"] for f in facets["collection"]}
    assert "genealogy" not in {f["value"] for f in facets["type"]}
    everything = client.get("/api/search?q=").get_json()["total"]
    assert everything == len([i for i in library.catalogue.item_ids()
                              if library.access_of(i) == "public"])


def test_errors_are_json_for_machines_and_pages_for_readers(client):
    api = client.get("/api/items/nope")
    assert api.status_code == 404 and api.get_json()["status"] == 404
    page = client.get("/items/nope")
    assert page.status_code == 404 and "Không tìm thấy" in page.get_data(as_text=True)
    assert client.get("/api/search?sort=sideways").status_code == 400


def test_pages_are_accessible_by_structure(client):
    for path in ("/", "/search?q=", "/items/peraire-1905", "/collections/"):
        page = client.get(path).get_data(as_text=True)
        assert 'class="skip" href="#main"' in page, path
        assert '<main id="main"' in page and 'name="viewport"' in page, path
        assert '<label for="q"' in page, path
