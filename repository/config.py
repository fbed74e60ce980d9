"""Sen's configuration: one typed object, read once.

Values come, in increasing priority, from the defaults below, from a TOML file
(``SEN_CONFIG``, else ``./sen.toml`` if it exists) and from ``SEN_*`` environment
variables (``SEN_PORT=9000`` sets ``port``). Every setting is documented here and
in the README; nothing else in Sen reads the environment.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path

from repository.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SCHEMAS_DIR = PROJECT_ROOT / "schemas"


@dataclass(frozen=True)
class Settings:
    #: Where all of Sen's state lives on the embedded defaults.
    data_dir: Path = Path("sen-data")
    #: Address ``sen serve`` listens on.
    host: str = "127.0.0.1"
    port: int = 8000
    #: Public base URL written into IIIF manifests and linked data. Empty means
    #: ``http://{host}:{port}``. Change it, then run ``sen rebuild derivatives``.
    base_url: str = ""
    #: Object storage: a local directory (default ``{data_dir}/storage``) or
    #: ``s3://bucket/prefix`` on any S3 API (AWS, MinIO, Ceph RGW, S3Proxy).
    storage_url: str = ""
    #: S3 endpoint (empty: AWS), region and credentials (empty: boto3's own chain,
    #: e.g. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or an instance role).
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    #: Local cache of pyramids read from S3 by the image server, in megabytes.
    image_cache_mb: int = 2048
    #: With remote storage, how long an image node trusts what it looked up about
    #: an image (its pyramid, its item's access level) before asking storage again.
    #: A change, such as an item made restricted, reaches image nodes within it.
    remote_lookup_seconds: float = 2.0
    #: Catalogue database, an SQLAlchemy URL (default SQLite in ``data_dir``).
    database_url: str = ""
    #: Search index: SQLite FTS5 in ``data_dir`` by default, or a Solr core or
    #: SolrCloud collection as ``http://host:8983/solr/sen``; several node URLs,
    #: comma-separated, are tried in turn when one is down.
    search_url: str = ""
    #: Job queue for ingest workers: SQLite in ``data_dir`` by default, or
    #: ``redis://host:6379/0`` for workers on several machines.
    queue_url: str = ""
    #: Seconds a worker may hold a task before another worker may take it over.
    task_lease_seconds: int = 600
    #: Largest image, in pixels, that ingest accepts: a guard against
    #: decompression bombs, checked from the header before decoding.
    max_image_pixels: int = 1_600_000_000
    #: Largest response the image server renders, in pixels (maxArea) and width.
    max_image_area: int = 25_000_000
    max_image_width: int = 10_000
    #: Pyramid tile size and JPEG quality of the derivative pyramids.
    tile_size: int = 256
    jpeg_quality: int = 85
    #: Results per page in the portal and the API.
    page_size: int = 20
    #: Where the IIIF viewer (Mirador, from npm) is installed.
    viewer_dir: Path = PROJECT_ROOT / "node_modules" / "mirador" / "dist"
    #: Signs the language cookie; set it in production.
    secret_key: str = "sen-development-key"
    #: Name of the network shown in manifests as provider and in the portal.
    site_name: str = "Thư viện số Đồng Tháp"
    site_name_en: str = "Đồng Tháp Digital Library"
    #: Name of the user recorded in OCFL versions written by this installation.
    agent_name: str = "Sen"
    extra: dict = field(default_factory=dict, compare=False)

    # Derived locations -------------------------------------------------------
    @property
    def public_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def storage_location(self) -> str:
        return self.storage_url or str(self.data_dir / "storage")

    @property
    def database_location(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'catalogue.sqlite').resolve()}"

    @property
    def search_location(self) -> str:
        return self.search_url or f"sqlite:///{(self.data_dir / 'search.sqlite').resolve()}"

    @property
    def queue_location(self) -> str:
        return self.queue_url or f"sqlite:///{(self.data_dir / 'queue.sqlite').resolve()}"

    @property
    def staging_dir(self) -> Path:
        """Local scratch space for building objects before they are published."""
        return self.data_dir / "staging"

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **changes)


def _coerce(name: str, kind: type, value):
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            return str(value).strip().lower() in {"1", "true", "yes", "on"}
        if kind is int:
            return int(value)
        if kind is float:
            return float(value)
        if kind is Path:
            return Path(value).expanduser()
        if kind is dict:
            return dict(value)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name!r}: cannot read {value!r} as {kind.__name__}") from exc


def load_settings(env: typing.Mapping[str, str] | None = None, **overrides) -> Settings:
    """Build the settings from defaults, ``sen.toml``, ``SEN_*`` variables and overrides."""
    env = os.environ if env is None else env
    hints = typing.get_type_hints(Settings)
    values: dict = {}
    config_file = env.get("SEN_CONFIG") or ("sen.toml" if Path("sen.toml").is_file() else "")
    if config_file:
        try:
            with open(config_file, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{config_file}: {exc}") from exc
        data = data.get("sen", data)
        for key, value in data.items():
            if key not in hints:
                raise ConfigError(f"{config_file}: unknown setting {key!r}")
            values[key] = value
    for f in fields(Settings):
        var = "SEN_" + f.name.upper()
        if var in env:
            values[f.name] = env[var]
    values.update({k: v for k, v in overrides.items() if v is not None})
    typed = {k: _coerce(k, hints[k], v) for k, v in values.items()}
    return Settings(**typed)
