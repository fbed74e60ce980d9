"""OAI-PMH 2.0 at ``/oai``: the protocol itself lives in :mod:`opendata.oai`."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from opendata import oai

bp = Blueprint("oai", __name__)


@bp.route("/oai", methods=["GET", "POST"])
def endpoint() -> Response:
    """GET reads the query, POST a form body (the spec allows both, for long tokens).

    Errors are part of the protocol, so every answer is XML with HTTP 200.
    """
    args = request.form if request.method == "POST" else request.args
    body = oai.respond(current_app.extensions["sen"], args.items(multi=True))
    response = Response(body, content_type="text/xml; charset=utf-8")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
