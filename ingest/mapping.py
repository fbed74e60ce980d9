"""From one CSV row to a record: Sen's metadata CSV, column by column.

Columns are named after Dublin Core terms; ``|`` separates repeated values; a
``@lang`` suffix (``title@en``) gives the language of a column, and a column
without one is Vietnamese. Every problem is reported with its row and column,
and all of a row's problems are reported at once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pycountry

from repository import record as rec
from repository.dates import DateError, parse_date
from repository.errors import Problem
from repository.places import default_authority
from repository.text import clean, fold, slugify

REQUIRED = ("identifier", "title", "files")
PLAIN = ("identifier", "creator", "contributor", "publisher", "date", "type", "language",
         "subject", "spatial", "rights", "access", "category", "holding_library", "shelfmark",
         "extent", "files", "alto")
LANGUAGE_TAGGED = ("title", "alternative", "description", "collection")
DEFAULT_RIGHTS = "http://rightsstatements.org/vocab/CNE/1.0/"
ID_PATTERN = re.compile(rec.schema()["properties"]["identifier"]["pattern"])
RIGHTS_PATTERN = re.compile(rec.schema()["properties"]["rights"]["pattern"])
LANG_SUFFIX = re.compile(r"^(?P<name>[a-z_]+)(?:@(?P<lang>[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*))?$")


@dataclass
class Row:
    """A validated row: the record, and the local files it brings."""

    number: int
    record: dict
    files: list[Path]
    alto: list[Path | None]
    warnings: list[Problem] = field(default_factory=list)


def check_header(columns: list[str], file: str) -> list[Problem]:
    problems = []
    seen = set()
    for column in columns:
        m = LANG_SUFFIX.match(column or "")
        name = m["name"] if m else None
        if not m or (m["lang"] and name not in LANGUAGE_TAGGED) or (
                not m["lang"] and name not in PLAIN + LANGUAGE_TAGGED):
            problems.append(Problem(
                f"unknown column {column!r}; known columns are {', '.join(PLAIN)} and "
                f"{', '.join(LANGUAGE_TAGGED)} (these four also as name@lang, e.g. title@en)",
                file=file, row=1, field=column))
        if column in seen:
            problems.append(Problem(f"column {column!r} appears twice", file=file, row=1,
                                    field=column))
        seen.add(column)
    for column in REQUIRED:
        if column not in columns:
            problems.append(Problem(f"required column {column!r} is missing", file=file,
                                    row=1, field=column))
    return problems


def _split(value: str | None) -> list[str]:
    return [clean(v) for v in (value or "").split("|") if clean(v)]


def _type_code(value: str) -> str | None:
    wanted = fold(value).replace("_", " ")
    for code, labels in rec.vocabulary("type").items():
        if wanted in {fold(code).replace("_", " "), fold(labels["vi"]), fold(labels["en"])}:
            return code
    return None


def _language(value: str) -> str | None:
    value = value.strip().lower()
    found = (pycountry.languages.get(alpha_3=value) if len(value) == 3 else
             pycountry.languages.get(alpha_2=value) if len(value) == 2 else None)
    return found.alpha_3 if found else None


def _rights(value: str) -> str:
    value = value.strip()
    value = re.sub(r"^https://", "http://", value)
    if value and not value.endswith("/"):
        value += "/"
    return value


def _resolve(base: Path, value: str) -> Path | None:
    """A path relative to the source folder that stays inside it, else None.

    The check is on the written path (``..`` segments, absolute paths), not on
    where symbolic links lead: a librarian may link a network share into the
    folder on purpose.
    """
    if not value or value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", value) \
            or any(ord(c) < 32 for c in value):
        return None
    path = Path(os.path.normpath(base / value))
    return path if path.is_relative_to(Path(os.path.normpath(base))) else None


def map_row(raw: dict[str, str | None], number: int, base: Path, file: str
            ) -> tuple[Row | None, list[Problem]]:
    """Turn a CSV row into a record, or the list of what is wrong with it."""
    problems: list[Problem] = []
    warnings: list[Problem] = []

    def bad(column: str, message: str) -> None:
        problems.append(Problem(message, file=file, row=number, field=column))

    if None in raw:
        bad("*", f"the row has {len(raw) - 1 + len(raw[None])} values but the header has "
                 f"{len(raw) - 1} columns (a stray comma or an unclosed quote?)")
        return None, problems
    if any(v is None for v in raw.values()):
        bad("*", "the row has fewer values than the header has columns")
        return None, problems

    identifier = (raw.get("identifier") or "").strip()
    if not identifier:
        bad("identifier", "required value is empty")
    elif not ID_PATTERN.match(identifier):
        shown = identifier if len(identifier) <= 40 else identifier[:40] + "…"
        bad("identifier", f"{shown!r} is not a valid identifier: use at most 128 letters, "
                          "digits, '.', '_' or '-', starting with a letter or digit")

    record: dict = {"identifier": identifier}
    for name in LANGUAGE_TAGGED:
        values: dict[str, list[str]] = {}
        for column, value in raw.items():
            m = LANG_SUFFIX.match(column)
            if m and m["name"] == name and value and clean(value):
                lang = m["lang"] or "vi"
                values[lang] = [clean(value)] if name in ("title", "collection") else _split(value)
        if values:
            record[name] = values
    if not clean(raw.get("title") or ""):
        bad("title", "required value is empty (the title column holds the Vietnamese title; "
                     "other languages go in title@en, title@fr...)")
    collection = record.pop("collection", None)
    if collection:
        record["collection"] = {"id": slugify(rec.pick(collection, "vi")), "name": collection}

    for name in ("creator", "contributor", "publisher", "subject"):
        if values := _split(raw.get(name)):
            record[name] = values
    for name in ("holding_library", "shelfmark", "extent"):
        if value := clean(raw.get(name) or ""):
            record[name] = value

    if value := clean(raw.get("date") or ""):
        try:
            record["date"] = parse_date(value)
        except DateError as exc:
            bad("date", f"{value!r}: {exc}")

    type_value = clean(raw.get("type") or "")
    code = _type_code(type_value) if type_value else None
    if not type_value:
        bad("type", "required value is empty")
    elif code is None:
        names = ", ".join(v["vi"].lower() for v in rec.vocabulary("type").values())
        bad("type", f"unknown type {type_value!r}; use one of: {names}")
    else:
        record["type"] = code

    languages = []
    for value in _split(raw.get("language")):
        if found := _language(value):
            languages.append(found)
        else:
            bad("language", f"{value!r} is not an ISO 639 language code (e.g. vie, fra, lzh)")
    if languages:
        record["language"] = list(dict.fromkeys(languages))

    year = record.get("date", {}).get("start")
    places = []
    for name in _split(raw.get("spatial")):
        entry, warning = default_authority().spatial(name, year)
        places.append(entry)
        if warning:
            warnings.append(Problem(warning, file=file, row=number, field="spatial"))
    if places:
        record["spatial"] = places

    rights = _rights(raw.get("rights") or "")
    if not rights:
        rights = DEFAULT_RIGHTS
        warnings.append(Problem("no rights statement; recorded as Copyright Not Evaluated",
                                file=file, row=number, field="rights"))
    elif not RIGHTS_PATTERN.match(rights):
        bad("rights", f"{raw.get('rights')!r} is not a rightsstatements.org or Creative "
                      "Commons URI (e.g. http://rightsstatements.org/vocab/NoC-NC/1.0/)")
    record["rights"] = rights

    for name, allowed, default in (("access", rec.vocabulary("access"), "public"),
                                   ("category", rec.vocabulary("category"), None)):
        value = (raw.get(name) or "").strip() or default
        if value is None:
            continue
        if value not in allowed:
            bad(name, f"{value!r} is not one of {', '.join(allowed)}")
        record[name] = value

    files, alto = _files(raw, base, bad)
    record["pages"] = [{"file": f"masters/{n:04d}{path.suffix.lower() or '.img'}",
                        "source": path.name}
                       | ({"ocr": f"ocr/{n:04d}.xml"} if alto[n - 1] else {})
                       for n, path in enumerate(files, 1)]

    if not problems:
        problems.extend(rec.problems(record, file=file, row=number))
    if problems:
        return None, problems
    return Row(number, record, files, alto, warnings), []


def _files(raw: dict, base: Path, bad) -> tuple[list[Path], list[Path | None]]:
    def existing(column: str, name: str) -> Path | None:
        path = _resolve(base, name)
        if path is None:
            bad(column, f"{name!r} points outside the folder of the CSV")
        elif not path.is_file():
            bad(column, f"file {name!r} not found (looked in {base})")
        else:
            return path
        return None

    names = _split(raw.get("files"))
    if not names:
        bad("files", "required value is empty: list the page images, separated by |")
    files = [p for p in (existing("files", name) for name in names) if p]
    alto_names = (raw.get("alto") or "").split("|") if (raw.get("alto") or "").strip() else []
    alto: list[Path | None] = [None] * len(files)
    if alto_names and len(alto_names) != len(names):
        bad("alto", f"lists {len(alto_names)} entries for {len(names)} files; leave an entry "
                    "empty for a page without OCR")
    elif alto_names and len(files) == len(names):
        alto = [existing("alto", n.strip()) if n.strip() else None for n in alto_names]
    return files, alto
