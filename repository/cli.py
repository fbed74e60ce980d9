"""``sen``: the command line, a thin face over the importable core.

Errors are mapped once, here, to exit codes: bad input 3, not found 4,
configuration 78, storage 74, anything else from Sen 1.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from repository.config import load_settings
from repository.errors import IngestError, SenError
from repository.repo import Repository


def _repo(ctx: click.Context) -> Repository:
    return ctx.obj["repo"]


@contextmanager
def _progress(label: str, enabled: bool = True):
    """A terminal progress bar fed by the core's ``progress(done, total, what)`` callbacks."""
    state: dict = {"bar": None}

    def update(done: int, total: int, what: str) -> None:
        if not enabled:
            return
        if state["bar"] is None or state["bar"].length != total:
            if state["bar"] is not None:
                state["bar"].render_finish()
            state["bar"] = click.progressbar(length=total, label=label, file=sys.stderr,
                                             show_pos=True, item_show_func=lambda s: s)
            state["bar"].render_progress()
        bar = state["bar"]
        bar.current_item = what
        bar.update(done - bar.pos)

    try:
        yield update
    finally:
        if state["bar"] is not None:
            state["bar"].render_finish()


@click.group()
@click.option("--data-dir", type=click.Path(path_type=Path), envvar="SEN_DATA_DIR",
              help="Where Sen keeps its state (SEN_DATA_DIR, default ./sen-data).")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None) -> None:
    """Sen: the digital heritage repository of the Đồng Tháp library network."""
    settings = load_settings(data_dir=data_dir)
    ctx.obj = {"settings": settings, "repo": Repository(settings)}
    ctx.call_on_close(ctx.obj["repo"].close)


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the storage root, the catalogue and the search index (safe to repeat)."""
    repo = _repo(ctx)
    repo.init()
    click.echo(f"Sen is ready in {repo.settings.data_dir} (storage: "
               f"{repo.settings.storage_location})")


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--metadata", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="The metadata CSV, when PATH is a folder or bag without metadata.csv.")
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--no-wait", is_flag=True,
              help="Only queue the work, for `sen worker` processes (e.g. on other machines).")
@click.pass_context
def ingest(ctx: click.Context, path: Path, metadata: Path | None, dry_run: bool,
           as_json: bool, quiet: bool, no_wait: bool) -> None:
    """Ingest a metadata CSV, a folder with metadata.csv, or a BagIt bag."""
    from ingest import pipeline

    repo = _repo(ctx)
    repo.init()
    with _progress("Kiểm tra / checking", not quiet) as progress:
        planned = pipeline.plan(repo, path, metadata, progress)
    for warning in planned.warnings:
        click.echo(f"warning: {warning}", err=True)
    if dry_run:
        result = {"dry_run": True, "new": planned.count("new"),
                  "changed": planned.count("changed"),
                  "unchanged": planned.count("unchanged"),
                  "items": [{"id": i.row.record["identifier"], "status": i.status}
                            for i in planned.items]}
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            for item in result["items"]:
                click.echo(f"  {item['status']:10} {item['id']}")
            click.echo(f"Dry run: {result['new']} new, {result['changed']} changed, "
                       f"{result['unchanged']} unchanged. Nothing was written.")
        return
    with _progress("Lưu trữ / storing", not quiet) as progress:
        summary = pipeline.run(repo, planned, progress, wait=not no_wait)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
    elif no_wait:
        click.echo(f"Job {summary.job}: {len(planned.items)} items queued for `sen worker`.")
    else:
        click.echo(f"Ingested {len(summary.items)} items ({summary.pages} pages) in "
                   f"{summary.seconds:.1f} s: {summary.created} new, {summary.updated} new "
                   f"versions, {summary.unchanged} unchanged, {len(summary.warnings)} "
                   f"warnings, {len(summary.failed)} failed (job {summary.job}).")
    for failure in summary.failed:
        click.echo(f"  failed: {failure['id']}: {failure['error']}", err=True)
    if summary.failed:
        sys.exit(1)


@cli.command()
@click.option("--idle-exit", is_flag=True, help="Stop when the queue is empty.")
@click.pass_context
def worker(ctx: click.Context, idle_exit: bool) -> None:
    """Work on queued tasks (ingest items) until stopped; run one per CPU, on any machine."""
    from ingest import worker as workers

    repo = _repo(ctx)
    repo.init()
    click.echo(f"Worker {repo.scratch.name} taking tasks from {repo.settings.queue_location}")
    done = workers.work(repo, idle_exit=idle_exit)
    click.echo(f"{done} tasks done.")


@cli.command()
@click.argument("job_id", required=False, type=int)
@click.pass_context
def jobs(ctx: click.Context, job_id: int | None) -> None:
    """Recent jobs, or the items of one job with their outcome."""
    repo = _repo(ctx)
    repo.init()
    if job_id is None:
        for job in repo.catalogue.jobs():
            click.echo(f"{job['id']:>5}  {job['kind']:8} {job['status']:8} "
                       f"{job['done']}/{job['total']}  {job['created']:%Y-%m-%d %H:%M}  "
                       f"{job['source']}")
        return
    for row in repo.catalogue.job_items(job_id):
        click.echo(f"  {row['status']:10} {row['item_id']:30} {row['version'] or ''} "
                   f"{row['error'] or ''}")


@cli.command()
@click.argument("what", nargs=-1, type=click.Choice(["catalogue", "search", "derivatives",
                                                     "all"]))
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def rebuild(ctx: click.Context, what: tuple[str, ...], quiet: bool) -> None:
    """Recreate the catalogue, the search index and derivatives from storage alone."""
    from ingest import derivatives

    repo = _repo(ctx)
    repo.init()
    what = set(what or ["all"])
    if "all" in what:
        what = {"catalogue", "search", "derivatives"}
    with repo.writer_lock():
        if "derivatives" in what:
            rebuilt = 0
            ids = sorted(repo.ocfl.ids())
            with _progress("Derivatives", not quiet) as progress:
                for n, item_id in enumerate(ids, 1):
                    inventory = repo.ocfl.inventory(item_id)
                    if not derivatives.is_current(repo, item_id, inventory):
                        derivatives.build(repo, item_id, inventory, repo.record(item_id))
                        rebuilt += 1
                    progress(n, len(ids), item_id)
            click.echo(f"Derivatives: {rebuilt} of {len(ids)} items rebuilt.")
        if what & {"catalogue", "search"}:
            with _progress("Catalogue + search", not quiet) as progress:
                count = repo.rebuild_indexes(progress)
            click.echo(f"Catalogue and search index rebuilt from {count} objects.")


@cli.command()
@click.option("--to-storage", required=True, help="Target storage URL (a path or s3://…).")
@click.option("--to-database", help="Target catalogue URL (default: the target's SQLite).")
@click.option("--to-search", help="Target search URL (default: the target's SQLite index).")
@click.option("--to-data-dir", type=click.Path(path_type=Path),
              help="Target data folder for what stays local (default: the current one).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def migrate(ctx: click.Context, to_storage: str, to_database: str | None,
            to_search: str | None, to_data_dir: Path | None, quiet: bool) -> None:
    """Copy the whole repository to other backends, verify every digest, rebuild indexes."""
    from repository.migrate import migrate as run_migration

    source = _repo(ctx)
    settings = source.settings.replace(
        storage_url=to_storage, database_url=to_database or "", search_url=to_search or "",
        data_dir=to_data_dir or source.settings.data_dir)
    if settings.storage_location == source.settings.storage_location:
        raise click.UsageError("the target storage is the current storage")
    target = Repository(settings)
    try:
        with source.writer_lock(), _progress("Migrating", not quiet) as progress:
            report = run_migration(source, target, progress)
    finally:
        target.close()
    click.echo(f"Migrated {report.objects} objects and {report.derivatives} derivative files "
               f"({report.bytes / 1e6:.1f} MB), every digest verified; catalogue and search "
               f"rebuilt. Now set SEN_STORAGE_URL={to_storage}"
               + (f" SEN_DATABASE_URL={to_database}" if to_database else "")
               + (f" SEN_SEARCH_URL={to_search}" if to_search else "") + ".")


@cli.group()
def publish() -> None:
    """Publish the open data: bulk dumps and the DCAT catalogue (and portals)."""


@publish.command("dumps")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def publish_dumps(ctx: click.Context, quiet: bool) -> None:
    """Write N-Triples, JSON-LD and CSV dumps of every public collection into storage."""
    from opendata import dumps, sparql

    repo = _repo(ctx)
    repo.init()
    with _progress("Dumps", not quiet) as progress:
        index = dumps.publish(repo, progress)
    for dump in index["dumps"]:
        triples = f", {dump['triples']} triples" if dump["triples"] is not None else ""
        click.echo(f"  {dump['name']:48} {dump['size']:>12,} bytes{triples}")
    if index["dumps"]:
        sparql.store_path(repo)  # load the SPARQL store now rather than on the first query
    click.echo(f"{len(index['datasets'])} datasets, {len(index['dumps'])} files published "
               f"under {dumps.PREFIX} (catalogue: {repo.settings.public_url}/catalog.ttl).")


@publish.command("ckan")
@click.option("--url", envvar="SEN_CKAN_URL", required=True,
              help="The CKAN portal (SEN_CKAN_URL).")
@click.option("--token", envvar="SEN_CKAN_TOKEN", required=True,
              help="A CKAN API token of a user who may create datasets (SEN_CKAN_TOKEN).")
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@click.pass_context
def publish_ckan(ctx: click.Context, url: str, token: str, dry_run: bool) -> None:
    """Bring a CKAN portal in step: one DCAT dataset per public collection."""
    from opendata import ckan

    report = ckan.publish(_repo(ctx), url, token, dry_run=dry_run)
    verb = "would be" if dry_run else "were"
    for kind in ("organizations", "created", "updated", "deleted"):
        for name in getattr(report, kind):
            click.echo(f"  {kind:13} {name}")
    click.echo(f"{len(report.created)} created, {len(report.updated)} updated, "
               f"{len(report.deleted)} removed, {len(report.unchanged)} unchanged: "
               f"{report.writes} writes {verb} made to {url}.")


@cli.command()
@click.argument("query", required=False, default="")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--page", type=int, default=1)
@click.option("--filter", "filters", multiple=True, metavar="FIELD=VALUE",
              help="Facet filter, e.g. --filter type=map --filter decade=1920.")
@click.pass_context
def search(ctx: click.Context, query: str, as_json: bool, page: int,
           filters: tuple[str, ...]) -> None:
    """Search the public items, as a reader would."""
    from repository.search import Query
    from repository.services import search_items

    repo = _repo(ctx)
    wanted: dict[str, list[str]] = {}
    for f in filters:
        name, _, value = f.partition("=")
        wanted.setdefault(name.strip(), []).append(value.strip())
    result = search_items(repo, Query(text=query, filters=wanted, page=page,
                                      page_size=repo.settings.page_size))
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    note = " (gần đúng / approximate matches)" if result["fuzzy"] else ""
    click.echo(f"{result['total']} kết quả / results{note}")
    for hit in result["items"]:
        click.echo(f"  {hit['id']:24} {hit['title']}")


@cli.command()
@click.argument("dest", type=click.Path(path_type=Path))
@click.pass_context
def sample(ctx: click.Context, dest: Path) -> None:
    """Write the sample collection (scans and metadata.csv) into DEST."""
    from ingest.sample import write_sample

    csv_path = write_sample(dest)
    click.echo(f"Sample collection written: {csv_path}")


@cli.command()
@click.option("--host", help="Address to listen on (SEN_HOST, default 127.0.0.1).")
@click.option("--port", type=int, help="Port (SEN_PORT, default 8000).")
@click.option("--threads", type=int, default=8, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, threads: int) -> None:
    """Serve the portal, the API, IIIF manifests and images."""
    import waitress

    from repository.web import create_app

    settings = ctx.obj["settings"].replace(**{k: v for k, v in
                                               {"host": host, "port": port}.items() if v})
    repo = Repository(settings)
    repo.init()
    app = create_app(settings, repo=repo)
    click.echo(f"Sen is serving on http://{settings.host}:{settings.port}/ "
               f"(public URL {settings.public_url})")
    waitress.serve(app, host=settings.host, port=settings.port, threads=threads,
                   ident="Sen", clear_untrusted_proxy_headers=True)


@cli.command("serve-images")
@click.option("--host", help="Address to listen on (SEN_HOST, default 127.0.0.1).")
@click.option("--port", type=int, default=8182, show_default=True)
@click.option("--workers", type=int, default=os.cpu_count() or 2, show_default=True,
              help="Worker processes, one thread each.")
@click.option("--pin-cpus/--no-pin-cpus", default=True, show_default=True,
              help="Keep each worker on one of the CPUs this process may use.")
@click.pass_context
def serve_images(ctx: click.Context, host: str | None, port: int, workers: int,
                 pin_cpus: bool) -> None:
    """Serve only the IIIF images (/iiif/image/…), on pre-forked workers: an image node."""
    from iiif_server.serve import serve

    settings = ctx.obj["settings"]
    Repository(settings).init()
    click.echo(f"Sen images on http://{host or settings.host}:{port}/iiif/image/ "
               f"with {workers} workers")
    serve("repository.web.images:from_settings", host=host or settings.host, port=port,
          workers=workers, pin_cpus=pin_cpus,
          env={"SEN_DATA_DIR": str(settings.data_dir.resolve())})


def main() -> None:
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except IngestError as exc:
        click.echo(f"Ingest refused: {len(exc.problems)} problem(s); nothing was written.",
                   err=True)
        for problem in exc.problems:
            click.echo(f"  error: {problem}", err=True)
        sys.exit(exc.exit_code)
    except SenError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
