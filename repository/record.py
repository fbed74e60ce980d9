"""The descriptive record of an item, as kept in ``record.json`` of its OCFL object.

The JSON Schema in ``schemas/record.schema.json`` is the single description of
the record: its fields, and the labels of its vocabularies (``x-labels``).
"""

from __future__ import annotations

import functools
import gettext
import json
from typing import Any

import jsonschema
import pycountry

from repository.config import SCHEMAS_DIR
from repository.errors import Problem

Record = dict[str, Any]
LANGUAGES = ("vi", "en")  # the portal's languages, in order of preference


@functools.cache
def schema() -> dict:
    with open(SCHEMAS_DIR / "record.schema.json", encoding="utf-8") as fh:
        return json.load(fh)


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def problems(record: Record, *, file: str | None = None, row: int | None = None) -> list[Problem]:
    """Every way ``record`` breaks the schema, each naming its field."""
    found = []
    for error in sorted(_validator().iter_errors(record), key=lambda e: list(e.path)):
        field = ".".join(str(p) for p in error.path) or None
        found.append(Problem(error.message, file=file, row=row, field=field))
    return found


def vocabulary(field: str) -> dict[str, dict[str, str]]:
    """Codes of a controlled field with their labels: ``{"map": {"vi": "Bản đồ", ...}}``."""
    return schema()["properties"][field]["x-labels"]


def term_label(field: str, code: str | None, lang: str = "vi") -> str:
    if not code:
        return ""
    labels = vocabulary(field).get(code)
    return labels.get(lang) or labels["vi"] if labels else code


@functools.cache
def language_name(code: str, lang: str = "vi") -> str:
    """The name of an ISO 639-3 language in ``lang`` (``vie`` -> ``Tiếng Việt``)."""
    found = pycountry.languages.get(alpha_3=code)
    if not found:
        return code
    if lang == "en":
        return found.name
    try:
        return gettext.translation("iso639-3", pycountry.LOCALES_DIR,
                                   languages=[lang]).gettext(found.name)
    except OSError:
        return found.name


def pick(language_map: dict[str, list[str]] | None, lang: str = "vi") -> str:
    """The first value of a language map in ``lang``, else in vi, en, or any language."""
    if not language_map:
        return ""
    for key in (lang, *LANGUAGES, *language_map):
        if language_map.get(key):
            return language_map[key][0]
    return ""


def title(record: Record, lang: str = "vi") -> str:
    return pick(record.get("title"), lang)


def canonical_json(record: Record) -> bytes:
    """The bytes of ``record.json``: stable, so the same record is the same file."""
    return (json.dumps(record, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()
