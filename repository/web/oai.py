"""oai (filled in by the open-data work)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("oai", __name__)
