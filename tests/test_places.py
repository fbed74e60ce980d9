"""The place authority: the file's structure, the loader's checks, and matching."""

from __future__ import annotations

import copy
import json
import re
from collections import Counter

import pytest

from repository import config
from repository.errors import NotFound
from repository.places import (
    LANGS,
    TYPES,
    Place,
    PlaceAuthority,
    PlaceAuthorityError,
    default_authority,
    load_authority,
)
from repository.text import fold

PLACES_JSON = config.SCHEMAS_DIR / "places.json"


@pytest.fixture(scope="module")
def raw() -> dict:
    return json.loads(PLACES_JSON.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def places() -> PlaceAuthority:
    return default_authority()


def write(tmp_path, data) -> str:
    path = tmp_path / "places.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def minimal() -> dict:
    return {
        "note": "test",
        "places": [
            {"id": "p", "type": "province", "names": [{"value": "Tỉnh P", "lang": "vi"}],
             "valid_from": "1976"},
            {"id": "d", "type": "district", "names": [{"value": "Huyện D", "lang": "vi"}],
             "part_of": "p"},
        ],
    }


# -- the file --------------------------------------------------------------------


def test_ids_are_unique_slugs(raw):
    ids = [p["id"] for p in raw["places"]]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert duplicates == []
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)


def test_references_resolve(raw):
    ids = {p["id"] for p in raw["places"]}
    dangling = [(p["id"], ref) for p in raw["places"]
                for ref in [p.get("part_of")] + p.get("replaced_by", [])
                if ref is not None and ref not in ids]
    assert dangling == []


def test_every_place_has_a_vietnamese_name_first(raw):
    for place in raw["places"]:
        assert place["names"][0]["lang"] == "vi", place["id"]
        assert place["names"][0]["value"].strip(), place["id"]
        assert {n["lang"] for n in place["names"]} <= set(LANGS), place["id"]
        assert place["type"] in TYPES, place["id"]


def test_note_says_the_2025_list_is_partial(raw):
    note = raw["note"]
    assert "PARTIAL" in note.upper()
    assert "102" in note and "1663/NQ-UBTVQH15" in note


def test_district_level_units_of_both_former_provinces(places):
    def district_level(province):
        return sorted(p.id for p in places
                      if p.type in ("city", "town", "district") and p.part_of == province)

    assert len(district_level("dong-thap-province-1976")) == 12
    assert len(district_level("tien-giang-province")) == 11
    for pid in district_level("dong-thap-province-1976") + district_level("tien-giang-province"):
        assert places.get(pid).valid_to == "2025-06-30", pid


def test_wards_after_the_reform(places):
    wards = [p for p in places if p.type == "ward"]
    assert len(wards) == 20
    for ward in wards:
        assert ward.valid_from == "2025-07-01" and ward.part_of == "dong-thap-province"
    labels = {w.label() for w in wards}
    for town in ("Cao Lãnh", "Sa Đéc", "Hồng Ngự", "Mỹ Tho", "Gò Công", "Cai Lậy"):
        assert f"Phường {town}" in labels


def test_parents_were_valid_at_the_same_time(places):
    for place in places:
        if place.part_of:
            parent = places.get(place.part_of)
            low = max(place.start_year or 0, parent.start_year or 0)
            high = min(place.end_year or 9999, parent.end_year or 9999)
            assert low <= high, place.id


def test_historic_provinces_and_dates(places):
    assert places.get("kien-phong-province-historic").start_year == 1956
    assert places.get("kien-phong-province-historic").end_year == 1976
    assert places.get("dinh-tuong-province-nguyen").label("lzh") == "定祥"
    assert places.get("dong-thap-province-1976").replaced_by == ("dong-thap-province",)
    assert places.get("tien-giang-province").replaced_by == ("dong-thap-province",)


# -- the loader's checks ------------------------------------------------------------


def test_minimal_file_loads(tmp_path):
    authority = load_authority(write(tmp_path, minimal()))
    assert [p.id for p in authority] == ["p", "d"]
    assert authority.ancestors("d")[0].id == "p"


@pytest.mark.parametrize("break_it, message", [
    (lambda d: d["places"].append(copy.deepcopy(d["places"][0])), "more than once"),
    (lambda d: d["places"][1].update(part_of="nowhere"), "unknown id 'nowhere'"),
    (lambda d: d["places"][1].update(replaced_by=["gone"]), "unknown id 'gone'"),
    (lambda d: d["places"][0].update(part_of="d"), "cycle"),
    (lambda d: d["places"][1]["names"].insert(0, {"value": "D", "lang": "fr"}),
     "preferred Vietnamese"),
    (lambda d: d["places"][1]["names"].append({"value": "D", "lang": "de"}), "'de'"),
    (lambda d: d["places"][0].update(valid_to="1975"), "after valid_to"),
    (lambda d: d["places"][0].update(valid_from="1976-02"), "not a year"),
    (lambda d: d["places"][0].update(kind="x"), "unknown field 'kind'"),
    (lambda d: d["places"][0].update(id="Tỉnh P"), "lower-case ASCII"),
    (lambda d: d["places"][0].update(type="county"), "'county'"),
    (lambda d: d["places"][0].update(lat=123.0), "'lat'"),
    (lambda d: d["places"][1].update(valid_to="1950"), "not valid at the same time"),
    (lambda d: d["places"][0].pop("names"), "'names' is required"),
])
def test_bad_files_are_refused_with_a_clear_message(tmp_path, break_it, message):
    data = minimal()
    break_it(data)
    with pytest.raises(PlaceAuthorityError) as info:
        load_authority(write(tmp_path, data))
    assert message in str(info.value)
    assert "places.json" in str(info.value)


def test_not_json_is_refused(tmp_path):
    path = tmp_path / "places.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(PlaceAuthorityError, match="not valid JSON"):
        load_authority(path)


def test_get_unknown_id(places):
    with pytest.raises(NotFound):
        places.get("no-such-place")
    assert "tp-sa-dec" in places and "no-such-place" not in places


def test_default_authority_is_loaded_once():
    assert default_authority() is default_authority()


# -- places --------------------------------------------------------------------


def test_place_is_frozen(places):
    with pytest.raises(AttributeError):
        places.get("tp-sa-dec").id = "x"  # type: ignore[misc]


def test_label_falls_back_to_vietnamese(places):
    province = places.get("sa-dec-province-historic")
    assert province.label() == "Tỉnh Sa Đéc"
    assert province.label("fr") == "Province de Sadec"
    assert places.get("huyen-lai-vung").label("fr") == "Huyện Lai Vung"


def test_all_names_feed_the_search_index(places):
    for pid in ("sa-dec-province-historic", "tp-sa-dec"):
        assert "Sadec" in places.get(pid).all_names()
    assert "Mytho" in places.get("tp-my-tho").all_names()
    assert "Plaine des Joncs" in places.get("dong-thap-muoi").all_names()
    names = places.get("tp-cao-lanh").all_names()
    assert len(names) == len(set(names))
    # Every alias of a place finds that place again.
    for place in places:
        for name in place.all_names():
            assert place in places.candidates(name), (place.id, name)


def test_to_dict_round_trips(places):
    place = places.get("tp-go-cong")
    data = place.to_dict()
    assert data["valid_from"] == "1987" and data["part_of"] == "tien-giang-province"
    assert Place(**{**data, "names": place.names, "aliases": tuple(data["aliases"]),
                    "replaced_by": tuple(data["replaced_by"])}) == place


# -- matching ------------------------------------------------------------------


def match_id(places, name, year=None):
    place = places.match(name, year)
    return place.id if place else None


@pytest.mark.parametrize("year, expected", [
    (1930, "sa-dec-province-historic"),
    (2020, "tp-sa-dec"),
    (2026, "phuong-sa-dec"),
    (1960, "sa-dec-province-historic"),   # nominal span, interruptions are in the note
    (None, "sa-dec-province-historic"),   # broadest
])
def test_sa_dec_by_year(places, year, expected):
    assert match_id(places, "Sa Đéc", year) == expected


@pytest.mark.parametrize("typed", ["sa dec", "SADEC", "Sadec", "Sa-Đéc", "Sa  Đéc", "sa-dec",
                                   "SA ĐÉC", "Sa Dec"])
def test_spellings_and_diacritics(places, typed):
    assert match_id(places, typed, 2020) == "tp-sa-dec"


@pytest.mark.parametrize("typed, year, expected", [
    ("tỉnh Sa Đéc", 2020, "sa-dec-province-historic"),
    ("Tinh Sa Dec", 2026, "sa-dec-province-historic"),
    ("Province de Sadec", None, "sa-dec-province-historic"),
    ("phường Sa Đéc", 1930, "phuong-sa-dec"),
    ("thành phố Sa Đéc", 2026, "tp-sa-dec"),
    ("TP. Cao Lãnh", None, "tp-cao-lanh"),
    ("tp cao lanh", 2010, "tp-cao-lanh"),
    ("TP.Cao Lãnh", None, "tp-cao-lanh"),
    ("Thị xã Cao Lãnh", 1990, "tp-cao-lanh"),
    ("huyện Cao Lãnh", 2010, "huyen-cao-lanh"),
    ("H. Cao Lãnh", 2010, "huyen-cao-lanh"),
    ("Cao-lanh", 1930, "huyen-cao-lanh"),
    ("Sadek", 1930, "sa-dec-province-historic"),
    ("tỉnh Kiến Phong", None, "kien-phong-province-historic"),
    ("Kien Phong Province", 1970, "kien-phong-province-historic"),
    ("Plaine des Joncs", None, "dong-thap-muoi"),
    ("Đồng Tháp Mười", 1930, "dong-thap-muoi"),
    ("Mytho", None, "my-tho-province-historic"),
    ("Mytho", 1930, "my-tho-province-historic"),
    ("Mytho", 2000, "tp-my-tho"),
    ("ville de Mytho", 1930, "tp-my-tho"),
    ("Mỹ Tho", 2026, "phuong-my-tho"),
    ("Gocong", 1935, "go-cong-province-historic"),
    ("TX Gò Công", 2000, "tp-go-cong"),
    ("Gò Công", 2020, "tp-go-cong"),
    ("Định Tường", 1850, "dinh-tuong-province-nguyen"),
    ("Định Tường", 1965, "dinh-tuong-province-rvn"),
    ("Đồng Tháp", 2020, "dong-thap-province-1976"),
    ("Đồng Tháp", 1930, "dong-thap-province-1976"),   # nearest in time
    ("Kiến Phong", 1980, "kien-phong-province-historic"),
    ("Đồng Tháp", 2026, "dong-thap-province"),
    ("Dong Thap Province", None, "dong-thap-province"),
    ("Tiền Giang", 1990, "tien-giang-province"),
    ("Hồng Ngự", 2000, "huyen-hong-ngu"),
    ("TP Hồng Ngự", 2000, "tp-hong-ngu"),
    ("Cai Lậy", 2020, "tx-cai-lay"),
    ("huyện Cai Lậy", 2020, "huyen-cai-lay"),
    ("tp-sa-dec", None, "tp-sa-dec"),
    ("Tràm Chim", None, "xa-tram-chim"),
])
def test_match(places, typed, year, expected):
    assert match_id(places, typed, year) == expected


@pytest.mark.parametrize("typed", ["Hà Nội", "Long Xuyên", "", "   ", "Thành phố", "Sa Đ"])
def test_unknown_names(places, typed):
    assert places.match(typed) is None
    assert places.match(typed, 2020) is None


def test_contradicting_diacritics_do_not_match(places):
    assert match_id(places, "Thanh Hòa", 2026) == "phuong-thanh-hoa"
    assert match_id(places, "Thanh Hoà", 2026) == "phuong-thanh-hoa"  # old tone placement
    assert match_id(places, "thanh hoa", 2026) == "phuong-thanh-hoa"
    assert places.match("Thanh Hóa", 2026) is None                    # the province up north


def test_my_tho_and_my_tho_with_dot_below(places):
    assert match_id(places, "Mỹ Thọ", 2026) == "xa-my-tho"
    assert match_id(places, "xã Mỹ Thọ", 2026) == "xa-my-tho"
    assert match_id(places, "Mỹ Tho", 2026) == "phuong-my-tho"
    assert places.get("xa-my-tho") not in places.candidates("Mỹ Tho", 2026)[:1]


def test_i_y_spelling_variants(places):
    assert match_id(places, "Nhị Quí") == "phuong-nhi-quy"
    assert match_id(places, "Mĩ Tho", 2026) == "phuong-my-tho"


def test_context_chooses_between_homonyms(places):
    assert match_id(places, "Châu Thành, Tiền Giang", 2020) == "huyen-chau-thanh-tien-giang"
    assert match_id(places, "Châu Thành (Đồng Tháp)", 2020) == "huyen-chau-thanh-dong-thap"
    assert match_id(places, "huyện Châu Thành - Tiền Giang") == "huyen-chau-thanh-tien-giang"
    assert match_id(places, "Sa Đéc, Đồng Tháp") == "tp-sa-dec"
    assert match_id(places, "Sa Đéc, Việt Nam", 2026) == "phuong-sa-dec"


def test_candidates_are_ranked(places):
    ids = [p.id for p in places.candidates("Sa Đéc", 2020)]
    assert ids[0] == "tp-sa-dec"
    assert set(ids) == {"tp-sa-dec", "sa-dec-province-historic", "phuong-sa-dec"}


def test_spatial_entries_and_warnings(places):
    entry, warning = places.spatial("  TP. Sa Đéc ", 2020)
    assert entry == {"id": "tp-sa-dec", "name": "TP. Sa Đéc"} and warning is None
    entry, warning = places.spatial("Long Xuyên", 1930)
    assert entry == {"name": "Long Xuyên"}
    assert warning and "not in the place authority" in warning
    entry, warning = places.spatial("Cao-lanh", 2000)   # the town and the rural district
    assert entry["id"] in ("tp-cao-lanh", "huyen-cao-lanh")
    assert warning and "ambiguous" in warning
    entry, warning = places.spatial("Châu Thành", 2020)
    assert entry["id"].startswith("huyen-chau-thanh-")
    assert warning and "ambiguous" in warning
    entry, warning = places.spatial("Tam Nông, Phú Thọ")          # not ours: say so
    assert entry["id"] == "huyen-tam-nong" and warning and "'Phú Thọ'" in warning
    entry, warning = places.spatial("Kiến Tường", 2020)           # the later town in Long An
    assert entry["id"] == "kien-tuong-province-historic"
    assert warning and "did not exist in 2020" in warning
    assert places.spatial("Sa Đéc, Việt Nam", 2026) == ({"id": "phuong-sa-dec",
                                                         "name": "Sa Đéc, Việt Nam"}, None)


def test_matching_is_case_and_mark_insensitive_for_every_alias(places):
    for place in places:
        for name in place.all_names():
            if fold(name) != name.lower():
                found = places.candidates(fold(name).upper())
                assert place in found, (place.id, name)


def test_typed_prefix_beats_the_year(tmp_path):
    data = {"places": [
        {"id": "tp-x", "type": "city", "names": [{"value": "Thành phố X", "lang": "vi"}],
         "valid_to": "1999"},
        {"id": "tx-x", "type": "town", "names": [{"value": "Thị xã X", "lang": "vi"}],
         "valid_from": "2000"},
    ]}
    authority = load_authority(write(tmp_path, data))
    assert authority.match("thành phố X", 2010).id == "tp-x"
    assert authority.match("TX X", 1990).id == "tx-x"
    assert authority.match("X", 2010).id == "tx-x"
    assert authority.match("X", 1990).id == "tp-x"
