"""Sen's place authority: map the place names librarians type to authority ids.

The authority lives in ``schemas/places.json``: provinces, the district-level
units of former Đồng Tháp and Tiền Giang (abolished on 1 July 2025), the
commune-level units after 1 July 2025 (partial, see the file's ``note``), and
historical and French names (Sa Đéc, Kiến Phong, Định Tường, Mỹ Tho, Gò Công,
Plaine des Joncs...), each with the dates it was valid.

Matching (:meth:`PlaceAuthority.match`) compares *folded* names
(:func:`repository.text.fold`: no case, no diacritics, đ → d) with spaces,
hyphens and punctuation ignored (``Sa-Đéc``, ``Sa  Đéc``, ``Sadec`` meet), the
i/y spelling variants made equal (``Quí``/``Quý``, ``Mĩ``/``Mỹ``) and an
administrative prefix removed whether it is typed or not (``tỉnh``, ``thành phố``,
``TP.``, ``thị xã``, ``TX``, ``huyện``, ``quận``, ``phường``, ``xã``, ``thị trấn``,
``province de``, ``ville de``; English ``... province``). When several places
share the name, candidates are ranked by, in this order:

1. an exact match including the typed prefix (``tỉnh Sa Đéc`` is the province);
2. agreement of the diacritics that *were* typed: ``Thanh Hóa`` is not
   ``Thanh Hòa`` and ``Mỹ Tho`` prefers Mỹ Tho to Mỹ Thọ (input typed without
   any diacritics is neutral);
3. the kind of unit the typed prefix names (``TX``/``thành phố``: a town or city,
   ``huyện``: a district...);
4. context after a comma or in brackets naming a containing unit
   (``Châu Thành, Tiền Giang``);
5. when a year is given: validity covering the year, else the nearest in time
   (a missing valid_from or valid_to counts as open);
6. the broadest unit (province, then region, then district level, then commune
   level);
7. the unit still valid, else the one that ended last;
8. the order of the authority file.

An authority id typed as such is accepted. Unknown names give ``None``;
:meth:`PlaceAuthority.spatial` turns a name into a record's ``spatial`` entry plus
a warning for names that are unknown, ambiguous, out of their dates or whose
context is not in the authority.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from repository import config
from repository.errors import ConfigError, NotFound
from repository.text import clean, fold, nfc

#: Kinds of place, as written in the ``type`` field.
TYPES = ("province", "city", "town", "district", "ward", "commune", "historic_province",
         "region")
#: Languages a name may carry.
LANGS = ("vi", "fr", "en", "lzh")
#: Breadth of each kind, smaller is broader (rule 6 of the ranking).
BREADTH = {"province": 0, "historic_province": 0, "region": 1, "city": 2, "town": 2,
           "district": 2, "ward": 3, "commune": 3}

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DATE = re.compile(r"^\d{4}(?:-\d{2}-\d{2})?$")
_PLACE_KEYS = {"id", "type", "names", "aliases", "valid_from", "valid_to", "part_of",
               "replaced_by", "lat", "long", "note"}
_TOP_KEYS = {"note", "sources", "places"}


class PlaceAuthorityError(ConfigError):
    """The place authority file is malformed."""


# ---------------------------------------------------------------------------
# Places


@dataclass(frozen=True)
class Name:
    value: str
    lang: str


@dataclass(frozen=True)
class Place:
    """One entry of the authority. ``names[0]`` is the preferred Vietnamese name."""

    id: str
    type: str
    names: tuple[Name, ...]
    aliases: tuple[str, ...] = ()
    valid_from: str | None = None
    valid_to: str | None = None
    part_of: str | None = None
    replaced_by: tuple[str, ...] = ()
    lat: float | None = None
    long: float | None = None
    note: str | None = None

    def label(self, lang: str = "vi") -> str:
        """The preferred name in ``lang``, falling back to the Vietnamese name."""
        for name in self.names:
            if name.lang == lang:
                return name.value
        for name in self.names:
            if name.lang == "vi":
                return name.value
        return self.names[0].value

    def all_names(self) -> tuple[str, ...]:
        """Every name and alias, once each: what the search index should know."""
        seen: dict[str, None] = {}
        for value in [n.value for n in self.names] + list(self.aliases):
            seen.setdefault(value, None)
        return tuple(seen)

    @property
    def start_year(self) -> int | None:
        return int(self.valid_from[:4]) if self.valid_from else None

    @property
    def end_year(self) -> int | None:
        return int(self.valid_to[:4]) if self.valid_to else None

    def covers(self, year: int) -> bool:
        """Whether the place was valid at some time in ``year`` (missing bounds are open)."""
        return self.years_from(year) == 0

    def years_from(self, year: int) -> int:
        """How many years ``year`` lies outside the validity (0 when inside it)."""
        if self.start_year is not None and year < self.start_year:
            return self.start_year - year
        if self.end_year is not None and year > self.end_year:
            return year - self.end_year
        return 0

    def to_dict(self) -> dict:
        """The entry as in ``places.json`` (optional fields left out when empty)."""
        out: dict = {"id": self.id, "type": self.type,
                     "names": [{"value": n.value, "lang": n.lang} for n in self.names]}
        for key in ("aliases", "valid_from", "valid_to", "part_of", "replaced_by", "lat",
                    "long", "note"):
            value = getattr(self, key)
            if value not in (None, ()):
                out[key] = list(value) if isinstance(value, tuple) else value
        return out


# ---------------------------------------------------------------------------
# Name normalisation

# Prefixes (folded words) -> (canonical prefix, kinds of unit it names).
_PREFIXES: dict[tuple[str, ...], tuple[str, frozenset[str]]] = {}


def _prefix(canonical: str, kinds: Iterable[str], *forms: str) -> None:
    for form in forms:
        _PREFIXES[tuple(form.split())] = (canonical, frozenset(kinds))


_PROVINCE = ("province", "historic_province")
_URBAN = ("city", "town")
_prefix("tinh", _PROVINCE, "tinh", "province de", "province of", "province du")
_prefix("arrondissement", ("historic_province",), "arrondissement de", "arrondissement of")
_prefix("thanhpho", _URBAN, "thanh pho", "tp")
_prefix("thixa", _URBAN, "thi xa", "tx")
_prefix("ville", _URBAN, "ville de")
_prefix("thitran", (), "thi tran", "tt")
_prefix("huyen", ("district",), "huyen")
_prefix("quan", ("district",), "quan")
_prefix("phuong", ("ward",), "phuong")
_prefix("xa", ("commune",), "xa")
_prefix("vung", ("region",), "vung")
_MAX_PREFIX = max(len(k) for k in _PREFIXES)

_SUFFIXES: dict[str, tuple[str, frozenset[str]]] = {
    "province": ("tinh", frozenset(_PROVINCE)),
    "city": ("thanhpho", frozenset(_URBAN)),
    "town": ("thixa", frozenset(_URBAN)),
    "district": ("huyen", frozenset({"district"})),
    "ward": ("phuong", frozenset({"ward"})),
    "commune": ("xa", frozenset({"commune"})),
    "region": ("vung", frozenset({"region"})),
}

# Abbreviations written with a full stop: "H. Cao Lãnh", "TP.Sa Đéc".
_ABBREVIATION = re.compile(r"^(tp|tx|tt|h|p|q|x)\s*\.\s*")
_ABBREVIATED = {"tp": "thành phố ", "tx": "thị xã ", "tt": "thị trấn ", "h": "huyện ",
                "p": "phường ", "q": "quận ", "x": "xã "}
_SEPARATORS = re.compile(r"[\W_]+")
_CONTEXT_SPLIT = re.compile(r"\s*(?:[,;()\[\]/]|\s[-–—]\s)\s*")
# Context too broad to say anything ("Sa Đéc, Việt Nam"): folded keys.
_BROAD_CONTEXT = frozenset({"vietnam", "vn", "nambo", "namki", "tainambo", "mientai",
                            "dongbangsongcuulong", "cochinchine", "indochine",
                            "indochinefrancaise", "mekongdelta"})
# A syllable ending in y after consonants only (or qu): Vietnamese writes i or y.
_FINAL_Y = re.compile(r"^(qu|[bcdghklmnprstvx]+)y$")


@dataclass(frozen=True)
class _Parsed:
    """A name cut into prefix and core, folded for matching."""

    key: str                    # folded core, no spaces: the index key
    full: str                   # canonical prefix + "|" + key, or "" without a prefix
    kinds: frozenset[str]       # kinds of unit the typed prefix names (empty: any)
    marks: tuple[Counter, ...]  # diacritics of each core word
    plain_key: str              # folded key of the whole name, prefix kept


def _iy(word: str) -> str:
    return _FINAL_Y.sub(lambda m: m.group(1) + "i", word)


def _marks(word: str) -> Counter:
    marks: Counter = Counter(c for c in unicodedata.normalize("NFD", word)
                             if unicodedata.combining(c))
    marks["stroke"] += word.count("đ")
    return +marks


def _parse(text: str) -> _Parsed:
    raw = clean(text).lower()
    raw = _ABBREVIATION.sub(lambda m: _ABBREVIATED[m.group(1)], raw)
    words = _SEPARATORS.sub(" ", raw).split()
    folded = [fold(w) for w in words]
    canonical, kinds, start, end = "", frozenset(), 0, len(words)
    for size in range(min(_MAX_PREFIX, len(words) - 1), 0, -1):
        found = _PREFIXES.get(tuple(folded[:size]))
        if found:
            (canonical, kinds), start = found, size
            break
    if not canonical and len(words) > 1 and folded[-1] in _SUFFIXES:
        (canonical, kinds), end = _SUFFIXES[folded[-1]], len(words) - 1
    key = "".join(_iy(w) for w in folded[start:end])
    return _Parsed(key=key, full=f"{canonical}|{key}" if canonical else "", kinds=kinds,
                   marks=tuple(_marks(w) for w in words[start:end]),
                   plain_key="".join(_iy(w) for w in folded))


def _fidelity(typed: tuple[Counter, ...], name: tuple[Counter, ...]) -> int:
    """0: the typed diacritics agree with the name (or none were typed);
    1: they are a part of the name's; 2: they contradict it."""
    if not any(typed) or len(typed) != len(name):
        return 0
    if all(t == n for t, n in zip(typed, name, strict=True)):
        return 0
    if all(not (t - n) for t, n in zip(typed, name, strict=True)):
        return 1
    return 2


# ---------------------------------------------------------------------------
# Loading and validation


def _date_bound(value: str, end: bool) -> datetime.date:
    if len(value) == 4:
        return datetime.date(int(value), 12, 31) if end else datetime.date(int(value), 1, 1)
    return datetime.date.fromisoformat(value)


def _check_place(raw: object, index: int) -> tuple[str, list[str]]:
    """Structural problems of one entry, and a label to name it by."""
    if not isinstance(raw, dict):
        return f"places[{index}]", ["is not an object"]
    where = f"place {raw.get('id')!r}" if isinstance(raw.get("id"), str) else f"places[{index}]"
    problems = []
    for key in sorted(set(raw) - _PLACE_KEYS):
        problems.append(f"unknown field {key!r}")
    for key in ("id", "type", "names"):
        if key not in raw:
            problems.append(f"field {key!r} is required")
    if "id" in raw and not (isinstance(raw["id"], str) and _ID.match(raw["id"])):
        problems.append(f"field 'id': {raw['id']!r} is not lower-case ASCII letters, digits "
                        "and single hyphens")
    if "type" in raw and raw["type"] not in TYPES:
        problems.append(f"field 'type': {raw['type']!r} is not one of {', '.join(TYPES)}")
    names = raw.get("names")
    if "names" in raw:
        if not isinstance(names, list) or not names:
            problems.append("field 'names' must be a non-empty list")
        else:
            for i, name in enumerate(names):
                if (not isinstance(name, dict) or set(name) != {"value", "lang"}
                        or not isinstance(name["value"], str) or not name["value"].strip()):
                    problems.append(f"field 'names[{i}]' must be {{'value': text, 'lang': "
                                    "code}")
                    continue
                if name["lang"] not in LANGS:
                    problems.append(f"field 'names[{i}]': language {name['lang']!r} is not "
                                    f"one of {', '.join(LANGS)}")
                if name["value"] != nfc(name["value"]):
                    problems.append(f"field 'names[{i}]': {name['value']!r} is not NFC")
            if isinstance(names[0], dict) and names[0].get("lang") != "vi":
                problems.append("field 'names': the first name must be the preferred "
                                "Vietnamese one (lang 'vi')")
    aliases = raw.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip()
                                                for a in aliases):
        problems.append("field 'aliases' must be a list of non-empty texts")
    else:
        for alias in aliases:
            if alias != nfc(alias):
                problems.append(f"field 'aliases': {alias!r} is not NFC")
    texts = []
    if isinstance(names, list):
        texts += [n["value"] for n in names
                  if isinstance(n, dict) and isinstance(n.get("value"), str)]
    if isinstance(aliases, list):
        texts += [a for a in aliases if isinstance(a, str)]
    for text in texts:
        if text.strip() and not _parse(text).key:
            problems.append(f"name {text!r} is only an administrative prefix")
    bounds = {}
    for key in ("valid_from", "valid_to"):
        if key in raw:
            value = raw[key]
            try:
                if not (isinstance(value, str) and _DATE.match(value)):
                    raise ValueError
                bounds[key] = _date_bound(value, end=key == "valid_to")
            except ValueError:
                problems.append(f"field {key!r}: {value!r} is not a year (YYYY) or a date "
                                "(YYYY-MM-DD)")
    if len(bounds) == 2 and bounds["valid_from"] > bounds["valid_to"]:
        problems.append("valid_from is after valid_to")
    if "part_of" in raw and not isinstance(raw["part_of"], str):
        problems.append("field 'part_of' must be an id")
    replaced_by = raw.get("replaced_by", [])
    if not isinstance(replaced_by, list) or not all(isinstance(r, str) for r in replaced_by):
        problems.append("field 'replaced_by' must be a list of ids")
    for key, limit in (("lat", 90), ("long", 180)):
        if key in raw:
            value = raw[key]
            if (isinstance(value, bool) or not isinstance(value, int | float)
                    or not -limit <= value <= limit):
                problems.append(f"field {key!r}: {value!r} is not a number between "
                                f"-{limit} and {limit}")
    if "note" in raw and not isinstance(raw["note"], str):
        problems.append("field 'note' must be text")
    return where, problems


def _to_place(raw: dict) -> Place:
    return Place(
        id=raw["id"], type=raw["type"],
        names=tuple(Name(n["value"], n["lang"]) for n in raw["names"]),
        aliases=tuple(raw.get("aliases", ())),
        valid_from=raw.get("valid_from"), valid_to=raw.get("valid_to"),
        part_of=raw.get("part_of"), replaced_by=tuple(raw.get("replaced_by", ())),
        lat=raw.get("lat"), long=raw.get("long"), note=raw.get("note"))


def _graph_problems(places: list[Place]) -> list[str]:
    """Duplicate ids, dangling or circular references, parents not valid at the time."""
    problems = []
    by_id: dict[str, Place] = {}
    for place in places:
        if place.id in by_id:
            problems.append(f"place {place.id!r}: the id is used more than once")
        by_id.setdefault(place.id, place)
    for place in places:
        where = f"place {place.id!r}"
        if place.part_of is not None:
            parent = by_id.get(place.part_of)
            if place.part_of == place.id:
                problems.append(f"{where}: field 'part_of' refers to itself")
            elif parent is None:
                problems.append(f"{where}: field 'part_of' refers to unknown id "
                                f"{place.part_of!r}")
            elif not _overlap(place, parent):
                problems.append(f"{where}: its parent {parent.id!r} was not valid at the "
                                "same time")
        for target in place.replaced_by:
            if target == place.id:
                problems.append(f"{where}: field 'replaced_by' refers to itself")
            elif target not in by_id:
                problems.append(f"{where}: field 'replaced_by' refers to unknown id "
                                f"{target!r}")
    for place in places:
        seen, current = {place.id}, by_id.get(place.part_of or "")
        while current is not None:
            if current.id in seen:
                problems.append(f"place {place.id!r}: 'part_of' forms a cycle")
                break
            seen.add(current.id)
            current = by_id.get(current.part_of or "")
    return problems


def _overlap(a: Place, b: Place) -> bool:
    low = max(a.start_year or -9999, b.start_year or -9999)
    high = min(a.end_year or 9999, b.end_year or 9999)
    return low <= high


def load_authority(path: str | Path) -> PlaceAuthority:
    """Read and check an authority file; :class:`PlaceAuthorityError` lists every problem."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlaceAuthorityError(f"{path}: cannot read the place authority: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise PlaceAuthorityError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("places"), list):
        raise PlaceAuthorityError(f"{path}: expected an object with a list 'places'")
    problems = [f"unknown top-level field {k!r}" for k in sorted(set(data) - _TOP_KEYS)]
    if not isinstance(data.get("note", ""), str):
        problems.append("top-level field 'note' must be text")
    places = []
    for index, raw in enumerate(data["places"]):
        where, found = _check_place(raw, index)
        problems += [f"{where}: {p}" for p in found]
        if not found:
            places.append(_to_place(raw))
    if not problems:
        problems = _graph_problems(places)
    if problems:
        raise PlaceAuthorityError(f"{path}: invalid place authority:\n  "
                                  + "\n  ".join(problems))
    return PlaceAuthority(places, note=data.get("note", ""), source=str(path))


# ---------------------------------------------------------------------------
# The authority


@dataclass(frozen=True)
class _Entry:
    place: Place
    parsed: _Parsed


class PlaceAuthority:
    """The places, an index of their folded names, and matching."""

    def __init__(self, places: Iterable[Place], note: str = "", source: str = "") -> None:
        self._places = list(places)
        problems = _graph_problems(self._places)
        if problems:
            raise PlaceAuthorityError(f"{source or 'place authority'}: "
                                      + "; ".join(problems))
        self.note = note
        self.source = source
        self._by_id = {p.id: p for p in self._places}
        self._order = {p.id: i for i, p in enumerate(self._places)}
        self._index: dict[str, list[_Entry]] = {}
        self._plain: dict[str, list[_Entry]] = {}
        for place in self._places:
            for text in place.all_names():
                parsed = _parse(text)
                entry = _Entry(place, parsed)
                self._index.setdefault(parsed.key, []).append(entry)
                self._plain.setdefault(parsed.plain_key, []).append(entry)

    # -- lookup --------------------------------------------------------------

    def get(self, place_id: str) -> Place:
        try:
            return self._by_id[place_id]
        except KeyError:
            raise NotFound(f"no place with id {place_id!r} in the place authority") from None

    def __iter__(self) -> Iterator[Place]:
        return iter(self._places)

    def __len__(self) -> int:
        return len(self._places)

    def __contains__(self, place_id: object) -> bool:
        return place_id in self._by_id

    def ancestors(self, place_id: str) -> list[Place]:
        """The units ``place_id`` is part of, nearest first."""
        out, current = [], self.get(place_id).part_of
        while current is not None:
            parent = self._by_id[current]
            out.append(parent)
            current = parent.part_of
        return out

    # -- matching ------------------------------------------------------------

    def match(self, name: str, year: int | None = None) -> Place | None:
        """The place ``name`` most probably means (in a document of ``year``), or None."""
        ranked = self._ranked(name, year)
        return ranked[0][1] if ranked else None

    def candidates(self, name: str, year: int | None = None) -> list[Place]:
        """Every place ``name`` may mean, best first."""
        return [place for _, place in self._ranked(name, year)]

    def spatial(self, name: str, year: int | None = None) -> tuple[dict, str | None]:
        """A record's ``spatial`` entry for ``name``, and a warning when it needs a look.

        Known names get the authority id; unknown ones stay as text with a warning.
        A warning also comes with a known name that several places share equally
        well, whose context (after a comma) is not in the authority or does not
        contain it, or whose place was not valid in ``year``.
        """
        text = clean(name)
        ranked, unknown_context = self._resolve(text, year)
        if not ranked:
            return {"name": text}, (f"place {text!r} is not in the place authority; kept "
                                    "as text")
        (best_key, best), rest = ranked[0], ranked[1:]
        warnings = []
        tied = [p.id for key, p in rest if key[:-1] == best_key[:-1]]
        if tied:
            when = f" in {year}" if year is not None else ""
            warnings.append(f"place {text!r} is ambiguous{when}: chose {best.id!r} over "
                            f"{', '.join(repr(t) for t in tied)}; add the kind of unit "
                            "(huyện, phường, xã...) or the province after a comma")
        if unknown_context:
            warnings.append(f"place {text!r}: {', '.join(repr(c) for c in unknown_context)} "
                            f"is not in the place authority, check that {best.id!r} is "
                            "meant")
        elif best_key and best_key[3]:
            warnings.append(f"place {text!r}: {best.id!r} does not lie in the unit named "
                            "after the comma")
        if year is not None and not best.covers(year):
            span = f"{best.valid_from or '?'}–{best.valid_to or ''}"
            warnings.append(f"place {text!r}: {best.id!r} ({span}) did not exist in {year}")
        return {"id": best.id, "name": text}, "; ".join(warnings) or None

    def _ranked(self, name: str, year: int | None) -> list[tuple[tuple, Place]]:
        return self._resolve(name, year)[0]

    def _resolve(self, name: str, year: int | None
                 ) -> tuple[list[tuple[tuple, Place]], list[str]]:
        """Candidates with their ranking keys, best first, and unknown context parts."""
        name = clean(name)
        if not name:
            return [], []
        if name in self._by_id:
            return [((), self._by_id[name])], []
        found = self._lookup(name)
        context: list[str] = []
        if not found:
            parts = [p for p in _CONTEXT_SPLIT.split(name) if p.strip()]
            if len(parts) > 1:
                found = self._lookup(parts[0])
                context = parts[1:]
        if not found:
            return [], []
        parsed, entries = found
        context_ids: set[str] = set()
        unknown_context = []
        for part in context:
            if _parse(part).plain_key in _BROAD_CONTEXT:
                continue
            hit = self._lookup(part)
            if hit:
                context_ids |= {e.place.id for e in hit[1]}
            else:
                unknown_context.append(part)
        best: dict[str, tuple] = {}
        for entry in entries:
            place = entry.place
            fidelity = _fidelity(parsed.marks, entry.parsed.marks)
            if fidelity == 2:
                continue
            key = (
                0 if parsed.full and parsed.full == entry.parsed.full else 1,
                fidelity,
                0 if not parsed.kinds or place.type in parsed.kinds else 1,
                0 if not context_ids or context_ids & self._lineage(place) else 1,
                *((0 if place.covers(year) else 1, place.years_from(year))
                  if year is not None else (0, 0)),
                BREADTH[place.type],
                -(place.end_year if place.end_year is not None else 10_000),
                self._order[place.id],
            )
            if place.id not in best or key < best[place.id]:
                best[place.id] = key
        ranked = sorted((key, self._by_id[pid]) for pid, key in best.items())
        return ranked, unknown_context

    def _lookup(self, text: str) -> tuple[_Parsed, list[_Entry]] | None:
        parsed = _parse(text)
        if parsed.key and parsed.key in self._index:
            return parsed, self._index[parsed.key]
        # The "prefix" may have been part of the name after all.
        if parsed.full and parsed.plain_key in self._plain:
            plain = _Parsed(key=parsed.plain_key, full="", kinds=frozenset(),
                            marks=(), plain_key=parsed.plain_key)
            return plain, self._plain[parsed.plain_key]
        return None

    def _lineage(self, place: Place) -> set[str]:
        return {p.id for p in self.ancestors(place.id)}


@functools.cache
def default_authority() -> PlaceAuthority:
    """Sen's own authority, ``schemas/places.json``, read and checked once."""
    return load_authority(config.SCHEMAS_DIR / "places.json")
