"""Search over the ingested sample collection and real scans, as a reader types it."""

from __future__ import annotations

import pytest

from ingest.sample import OCR_NOISE
from repository import access, alto
from repository.search import Query
from repository.text import fold


def hits(library, text: str, **kw) -> list[str]:
    return [h.id for h in library.search.search(Query(text=text, **kw)).hits]


def damaged_items(library, damaged: str) -> set[str]:
    """Public items whose OCR text holds the damaged form of a word."""
    found = set()
    for item_id in library.catalogue.item_ids():
        if not access.can_view(library.access_of(item_id)):
            continue
        record = library.record(item_id)
        text = " ".join(alto.text(library.ocfl.read(item_id, p["ocr"]))
                        for p in record["pages"] if p.get("ocr"))
        if fold(damaged) in fold(text):
            found.add(item_id)
    return found


@pytest.mark.parametrize("query", ["dong thap", "sa dec", "cao lanh", "my tho"])
def test_with_and_without_diacritics_alike(library, query):
    plain = hits(library, query)
    assert plain
    assert hits(library, query.title()) == plain
    vietnamese = {"dong thap": "Đồng Tháp", "sa dec": "Sa Đéc", "cao lanh": "Cao Lãnh",
                  "my tho": "Mỹ Tho"}[query]
    assert hits(library, vietnamese) == plain


def test_old_and_new_tone_placement_meet(library):
    assert "tg-dc-0002" in hits(library, "hòa")  # the 1934 newspaper writes "hoà"
    assert set(hits(library, "hòa")) == set(hits(library, "hoà"))
    assert set(hits(library, "thúy")) == set(hits(library, "thuý"))


def test_phrase_search(library):
    assert "dt-dc-0001" in hits(library, '"đất và người"')
    assert hits(library, '"người và đất"') == []


@pytest.mark.parametrize("clean, damaged", sorted(OCR_NOISE.items()))
def test_ocr_damaged_words_still_find_their_pages(library, clean, damaged):
    expected = damaged_items(library, damaged)
    if not expected:
        pytest.skip(f"{damaged!r} occurs only in items hidden from readers")
    # A reader types the word as it should be; "~" asks for approximate matches
    # even where the word also occurs correctly spelt elsewhere.
    found = set(hits(library, clean)) | set(hits(library, f"{clean}~", page_size=100))
    assert expected <= found, (clean, damaged, expected, found)


def test_title_matches_come_first(library):
    results = library.search.search(Query(text="sa dec"))
    titles = [h.title_match for h in results.hits]
    assert titles == sorted(titles, reverse=True) and titles[0]

