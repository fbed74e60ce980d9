"""The web application: portal, JSON API, IIIF Presentation and Image services.

``create_app(settings)`` builds it; nothing happens at import time. The image
server is a separate WSGI application (``iiif_server``) mounted at
``/iiif/image``, so the same code can also run alone behind a cache.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, request, send_from_directory
from flask_babel import Babel
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from repository.config import SCHEMAS_DIR, Settings, load_settings
from repository.repo import Repository

LANGUAGES = ("vi", "en")
LANG_COOKIE = "sen_lang"


def select_locale() -> str:
    wanted = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    return wanted if wanted in LANGUAGES else "vi"


def create_app(settings: Settings | None = None, repo: Repository | None = None) -> Flask:
    settings = settings or load_settings()
    repo = repo or Repository(settings)
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, JSON_AS_ASCII=False,
                      BABEL_DEFAULT_LOCALE="vi",
                      BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).with_name(
                          "translations")))
    app.json.ensure_ascii = False
    app.extensions["sen"] = repo
    Babel(app, locale_selector=select_locale)

    from repository.web import api, errors, iiif, linkeddata, oai, public

    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(iiif.bp)
    app.register_blueprint(linkeddata.bp)
    app.register_blueprint(oai.bp)
    errors.register(app)

    @app.before_request
    def _lang() -> None:
        g.lang = select_locale()

    @app.after_request
    def _remember_lang(response):
        if request.args.get("lang") in LANGUAGES:
            response.set_cookie(LANG_COOKIE, request.args["lang"], max_age=365 * 86400,
                                samesite="Lax")
        return response

    @app.get("/vendor/mirador/<path:name>")
    def mirador(name: str):
        return send_from_directory(settings.viewer_dir, name, max_age=86400)

    @app.get("/schemas/<path:name>")
    def schemas(name: str):
        return send_from_directory(SCHEMAS_DIR, name, max_age=3600)

    from repository.web.images import image_app

    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/iiif/image": image_app(repo)})
    return app
