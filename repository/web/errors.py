"""Errors mapped once to HTTP: JSON for the API and IIIF, a page for readers."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from repository.errors import SenError


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/iiif/"))


def register(app: Flask) -> None:
    @app.errorhandler(SenError)
    def sen_error(exc: SenError):
        return _respond(exc.http_status, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _respond(exc.code or 500, exc.description or exc.name)


def _respond(status: int, message: str):
    if _wants_json():
        response = jsonify({"error": message, "status": status})
        response.status_code = status
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    titles = {404: _("Page not found"), 403: _("Not allowed"), 400: _("Bad request")}
    return render_template("error.html", status=status,
                           title=titles.get(status, _("Something went wrong")),
                           message=message if status < 500 else ""), status
