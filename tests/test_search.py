"""The embedded search backend, driven with documents written for each behaviour."""

import pytest

from repository.search import Query, SearchDocument, parse_query
from repository.search.fuzzy import deletes, distance
from repository.search.sqlite import SqliteSearch


def doc(doc_id, title, *, description="", fulltext="", access="public", created="2026-01-01",
        **facets):
    return SearchDocument(
        id=doc_id, access=access, created=created, title_sort=title,
        text={"title": title, "description": description, "fulltext": fulltext},
        facets={k: v if isinstance(v, list) else [v] for k, v in facets.items()})


@pytest.fixture
def index(tmp_path):
    idx = SqliteSearch(tmp_path / "search.sqlite")
    idx.add([
        doc("a", "Địa chí Đồng Tháp", description="Lịch sử tỉnh", type="book",
            collection="dia-chi", decade="1920"),
        doc("b", "Chợ nổi Cái Bè", description="Ảnh chụp chợ trên sông, gần Đồng Tháp",
            type="photograph", collection="anh", decade="1960"),
        doc("c", "Sa Đéc xưa", description="Phố cũ Sa Đéc thời thuộc Pháp", type="book",
            collection="dia-chi", decade="1930", created="2026-02-01"),
        doc("d", "Gia phả họ Nguyễn", description="Đồng Tháp", access="restricted",
            type="genealogy", collection="dia-chi"),
        doc("e", "Báo Mỹ Tho", fulltext="tỉnh Định Tường, làng Hoà Khánh, cô Thuý",
            type="newspaper", collection="bao", decade="1930"),
        doc("f", "Bản đồ vùng trũng", fulltext="Cao Lãnh, Tbáp Mười, đường Ca0 Lãnh",
            type="map", collection="anh"),
    ])
    yield idx
    idx.close()


def ids(results):
    return [h.id for h in results.hits]


def test_folded_queries_match_both_ways(index):
    for text in ("dong thap", "Đồng Tháp", "ĐỒNG THÁP", "đong thap"):
        assert set(ids(index.search(Query(text=text)))) == {"a", "b"}, text


def test_title_matches_rank_first(index):
    assert ids(index.search(Query(text="dong thap")))[0] == "a"
    assert ids(index.search(Query(text="sa dec"))) == ["c"]


def test_tone_mark_placement_old_and_new(index):
    assert ids(index.search(Query(text="hòa khánh"))) == ["e"]
    assert ids(index.search(Query(text="thúy"))) == ["e"]


def test_phrase_queries(index):
    assert ids(index.search(Query(text='"cho noi"'))) == ["b"]
    assert ids(index.search(Query(text='"noi cho"'))) == []
    assert ids(index.search(Query(text="Sa-Đéc"))) == ["c"]


def test_prefix_and_exclusion(index):
    assert set(ids(index.search(Query(text="thap*")))) == {"a", "b"}
    assert ids(index.search(Query(text="dong thap -cho"))) == ["a"]


def test_restricted_documents_are_invisible_even_in_counts(index):
    results = index.search(Query(text="gia pha"))
    assert results.total == 0 and results.hits == []
    everything = index.search(Query())
    assert "d" not in ids(everything)
    counts = dict(everything.facets["type"])
    assert "genealogy" not in counts
    assert dict(everything.facets["collection"])["dia-chi"] == 2
    assert ids(index.search(Query(text="gia pha", visible=frozenset({"public", "restricted"}))))


def test_ocr_damaged_words_are_found_by_the_fallback(index):
    results = index.search(Query(text="thap muoi"))
    assert ids(results) == ["f"] and results.fuzzy
    exact = index.search(Query(text="thap muoi", fuzzy="never"))
    assert exact.total == 0
    # An exact match exists for "dong thap", so no approximate matches are mixed in.
    assert not index.search(Query(text="dong thap")).fuzzy


def test_facets_filters_and_multiselect(index):
    results = index.search(Query(filters={"type": ["book"]}))
    assert set(ids(results)) == {"a", "c"}
    # The type facet still offers the other types (multi-select), with their counts.
    assert dict(results.facets["type"])["photograph"] == 1
    assert dict(results.facets["collection"]) == {"dia-chi": 2}
    both = index.search(Query(filters={"type": ["book", "map"]}))
    assert set(ids(both)) == {"a", "c", "f"}
    assert ids(index.search(Query(filters={"decade": ["1930"], "type": ["newspaper"]}))) == ["e"]


def test_paging_and_sorting(index):
    first = index.search(Query(page_size=2, sort="title"))
    second = index.search(Query(page_size=2, page=2, sort="title"))
    assert first.total == 5 and first.pages == 3
    assert not set(ids(first)) & set(ids(second))
    assert ids(index.search(Query(sort="newest")))[0] == "c"


def test_reindex_replaces_and_delete_removes(index):
    index.add([doc("a", "Tên mới hoàn toàn")])
    assert ids(index.search(Query(text="dia chi"))) == []
    assert ids(index.search(Query(text="ten moi"))) == ["a"]
    index.delete("a")
    assert index.search(Query(text="ten moi")).total == 0


def test_query_parser_and_fuzzy_helpers():
    clauses = parse_query('"Sa Đéc" -chợ thap* muoi~')
    assert [(c.words, c.negated, c.prefix, c.fuzzy) for c in clauses] == [
        (("sa", "dec"), False, False, False), (("cho",), True, False, False),
        (("thap",), False, True, False), (("muoi",), False, False, True)]
    assert "thp" in deletes("thap", 1) and distance("thap", "tbap", 2) == 1
    assert distance("cao", "xyzw", 1) == 2
