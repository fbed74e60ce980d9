"""The search contract: every backend gives the same answers to the same documents.

Each test runs on the embedded index (SQLite FTS5) and on Solr. The Solr half is an
integration test against the core ``services/up solr`` starts; it fails, rather than
skips, when that server was not started, so a green run always means both backends.
"""

import os

import pytest

from repository.search import FACETS, Query, SearchDocument, parse_query
from repository.search.fuzzy import deletes, distance
from repository.search.solr import SolrSearch
from repository.search.sqlite import SqliteSearch

BACKENDS = ["sqlite", pytest.param("solr", marks=pytest.mark.integration)]


def doc(doc_id, title, *, description="", fulltext="", access="public", created="2026-01-01",
        date_start=None, **facets):
    return SearchDocument(
        id=doc_id, access=access, created=created, title_sort=title, date_start=date_start,
        text={"title": title, "description": description, "fulltext": fulltext},
        facets={k: v if isinstance(v, list) else [v] for k, v in facets.items()})


def open_backend(kind, tmp_path):
    if kind == "sqlite":
        return SqliteSearch(tmp_path / "search.sqlite")
    url = os.environ.get("SEN_TEST_SOLR_URL")
    if not url:
        pytest.fail("SEN_TEST_SOLR_URL is not set: start Solr with `services/up solr` and "
                    'load its address with `eval "$(services/env)"`')
    idx = SolrSearch([url])
    idx.clear()
    return idx


@pytest.fixture(params=BACKENDS)
def empty_index(request, tmp_path):
    idx = open_backend(request.param, tmp_path)
    yield idx
    idx.close()


@pytest.fixture
def index(empty_index):
    empty_index.add([
        doc("a", "Địa chí Đồng Tháp", description="Lịch sử tỉnh", type="book",
            collection="dia-chi", decade="1920", date_start=1925),
        doc("b", "Chợ nổi Cái Bè", description="Ảnh chụp chợ trên sông, gần Đồng Tháp",
            type="photograph", collection="anh", decade="1960", date_start=1965),
        doc("c", "Sa Đéc xưa", description="Phố cũ Sa Đéc thời thuộc Pháp", type="book",
            collection="dia-chi", decade="1930", created="2026-02-01", date_start=1935),
        doc("d", "Gia phả họ Nguyễn", description="Đồng Tháp", access="restricted",
            type="genealogy", collection="dia-chi"),
        doc("e", "Báo Mỹ Tho", fulltext="tỉnh Định Tường, làng Hoà Khánh, cô Thuý",
            type="newspaper", collection="bao", decade="1930", date_start=1932),
        doc("f", "Bản đồ vùng trũng", fulltext="Cao Lãnh, Tbáp Mười, đường Ca0 Lãnh",
            type="map", collection="anh"),
    ])
    return empty_index


def ids(results):
    return [h.id for h in results.hits]


def test_folded_queries_match_both_ways(index):
    for text in ("dong thap", "Đồng Tháp", "ĐỒNG THÁP", "đong thap"):
        assert set(ids(index.search(Query(text=text)))) == {"a", "b"}, text


def test_title_matches_rank_first(index):
    results = index.search(Query(text="dong thap"))
    assert ids(results)[0] == "a"
    assert [h.title_match for h in results.hits] == [True, False]
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


def test_ocr_lookalikes_are_undone_on_both_sides(index):
    # "Ca0 Lãnh" was indexed as "cao lanh": an exact match, not an approximate one.
    results = index.search(Query(text="cao lanh"))
    assert ids(results) == ["f"] and not results.fuzzy
    index.add([doc("g", "Tin tức", fulltext="Tổ chức rnới 1ần thứ 5, năm 1925")])
    assert ids(index.search(Query(text="mới lần thứ 5", fuzzy="never"))) == ["g"]
    assert ids(index.search(Query(text="1925", fuzzy="never"))) == ["g"]


def test_fuzzy_modes_and_word_order(index):
    always = index.search(Query(text="tbap", fuzzy="always"))
    assert set(ids(always)) == {"a", "b", "f"} and always.fuzzy
    # "word~" asks for approximate matches of that word even when fuzzy is off.
    asked = index.search(Query(text="thap~ muoi", fuzzy="never"))
    assert ids(asked) == ["f"] and not asked.fuzzy
    # An approximate phrase is still a phrase: its words in order, side by side.
    assert ids(index.search(Query(text='"thap muoi"', fuzzy="always"))) == ["f"]
    assert index.search(Query(text='"muoi thap"', fuzzy="always")).total == 0
    # Words shorter than four letters are never matched approximately.
    assert index.search(Query(text="chu", fuzzy="always")).total == 0


def test_facets_filters_and_multiselect(index):
    results = index.search(Query(filters={"type": ["book"]}))
    assert set(ids(results)) == {"a", "c"}
    # The type facet still offers the other types (multi-select), with their counts.
    assert dict(results.facets["type"])["photograph"] == 1
    assert dict(results.facets["collection"]) == {"dia-chi": 2}
    both = index.search(Query(filters={"type": ["book", "map"]}))
    assert set(ids(both)) == {"a", "c", "f"}
    assert ids(index.search(Query(filters={"decade": ["1930"], "type": ["newspaper"]}))) == ["e"]


def test_facet_counts_are_ordered_by_count_then_value(index):
    facets = index.search(Query()).facets
    assert list(facets) == list(FACETS)
    assert facets["collection"] == [("anh", 2), ("dia-chi", 2), ("bao", 1)]
    assert facets["place"] == []


def test_paging_and_sorting(index):
    first = index.search(Query(page_size=2, sort="title"))
    second = index.search(Query(page_size=2, page=2, sort="title"))
    assert first.total == 5 and first.pages == 3
    assert not set(ids(first)) & set(ids(second))
    assert ids(index.search(Query(sort="newest")))[0] == "c"
    assert ids(index.search(Query(sort="title"))) == ["f", "e", "b", "a", "c"]
    # Undated documents come last in both directions.
    assert ids(index.search(Query(sort="date"))) == ["a", "e", "c", "b", "f"]
    assert ids(index.search(Query(sort="-date"))) == ["b", "c", "e", "a", "f"]
    assert ids(index.search(Query(text="dong thap", sort="date"))) == ["a", "b"]


def test_reindex_replaces_and_delete_removes(index):
    index.add([doc("a", "Tên mới hoàn toàn")])
    assert ids(index.search(Query(text="dia chi"))) == []
    assert ids(index.search(Query(text="ten moi"))) == ["a"]
    index.delete("a")
    assert index.search(Query(text="ten moi")).total == 0


def test_count_and_clear(index):
    assert index.count() == 6
    index.clear()
    assert index.count() == 0 and index.search(Query()).total == 0


def test_query_parser_and_fuzzy_helpers():
    clauses = parse_query('"Sa Đéc" -chợ thap* muoi~')
    assert [(c.words, c.negated, c.prefix, c.fuzzy) for c in clauses] == [
        (("sa", "dec"), False, False, False), (("cho",), True, False, False),
        (("thap",), False, True, False), (("muoi",), False, False, True)]
    assert "thp" in deletes("thap", 1) and distance("thap", "tbap", 2) == 1
    assert distance("cao", "xyzw", 1) == 2
