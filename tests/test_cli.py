"""The ``sen`` command line, and rebuilding every derived store from storage alone."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from repository.cli import cli, main
from repository.repo import Repository
from repository.search import Query
from tests.conftest import make_settings, real_scans_folder


def run(*args, data_dir):
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args],
                              catch_exceptions=False, standalone_mode=False)


def test_init_ingest_search_and_dry_run(tmp_path, monkeypatch):
    monkeypatch.setenv("SEN_BASE_URL", "http://sen.test")
    data = tmp_path / "data"
    source = real_scans_folder(tmp_path / "real")
    result = run("ingest", str(source), "--dry-run", "--json", data_dir=data)
    plan = json.loads(result.stdout)
    assert plan["dry_run"] and plan["new"] == 5
    assert not any((data / "storage").rglob("inventory.json"))
    result = run("ingest", str(source), "--json", "--quiet", data_dir=data)
    summary = json.loads(result.stdout)
    assert summary["created"] == 5 and summary["pages"] == 14
    result = run("search", "voyage", "--json", data_dir=data)
    found = json.loads(result.stdout)
    assert [i["id"] for i in found["items"]] == ["peraire-1905"]
    assert found["items"][0]["manifest"] == "http://sen.test/iiif/peraire-1905/manifest"
    # Restricted items are not found from the command line either.
    assert json.loads(run("search", "gia pha", "--json", data_dir=data).stdout)["total"] == 0
    result = run("search", "--filter", "type=photograph", data_dir=data)
    assert "tractor-photo" in result.output


def test_bad_input_exit_code_and_message(tmp_path, monkeypatch, capsys):
    (tmp_path / "metadata.csv").write_text("identifier,title\nx,y\n", encoding="utf-8")
    monkeypatch.setattr("sys.argv", ["sen", "--data-dir", str(tmp_path / "d"), "ingest",
                                     str(tmp_path), "--quiet"])
    try:
        main()
    except SystemExit as exc:
        assert exc.code == 3
    else:
        raise AssertionError("sen ingest accepted a CSV without a files column")
    err = capsys.readouterr().err
    assert "metadata.csv, row 1, field 'files': required column 'files' is missing" in err
    assert "nothing was written" in err


def test_rebuild_recreates_catalogue_search_and_derivatives_from_storage(library, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setenv("SEN_BASE_URL", "http://sen.test")
    data = tmp_path / "copy"
    shutil.copytree(library.settings.data_dir, data)
    for name in ("catalogue.sqlite", "catalogue.sqlite-wal", "catalogue.sqlite-shm",
                 "search.sqlite", "search.sqlite-wal", "search.sqlite-shm"):
        (data / name).unlink(missing_ok=True)
    shutil.rmtree(data / "storage" / "derivatives")
    result = run("rebuild", "--quiet", data_dir=data)
    assert "Catalogue and search index rebuilt from" in result.output
    repo = Repository(make_settings(data))
    try:
        assert repo.catalogue.item_ids() == library.catalogue.item_ids()
        for text in ("dong thap", "sa dec", "journal", ""):
            ours = [h.id for h in repo.search.search(Query(text=text)).hits]
            theirs = [h.id for h in library.search.search(Query(text=text)).hits]
            assert ours == theirs, text
        for item_id in repo.catalogue.item_ids():
            assert repo.manifest(item_id) == library.manifest(item_id)
            assert [p["sizes"] for p in repo.item_info(item_id)["pages"]] == \
                [p["sizes"] for p in library.item_info(item_id)["pages"]]
    finally:
        repo.close()


def test_migrate_copies_verifies_and_rebuilds(library, tmp_path, monkeypatch):
    from tests.conftest import ocfl_problems

    monkeypatch.setenv("SEN_BASE_URL", "http://sen.test")
    source = tmp_path / "source"
    shutil.copytree(library.settings.data_dir, source)
    target = tmp_path / "target"
    result = run("migrate", "--to-storage", str(target / "storage"), "--to-data-dir",
                 str(target), "--quiet", data_dir=source)
    assert "every digest verified" in result.output
    assert ocfl_problems(target / "storage" / "ocfl") == []
    repo = Repository(make_settings(target))
    try:
        assert repo.catalogue.item_ids() == library.catalogue.item_ids()
        assert [h.id for h in repo.search.search(Query(text="sa dec")).hits] == \
            [h.id for h in library.search.search(Query(text="sa dec")).hits]
        for item_id in repo.catalogue.item_ids():
            assert repo.manifest(item_id) == library.manifest(item_id)
    finally:
        repo.close()
    # Running it again finds everything in place and changes nothing.
    again = run("migrate", "--to-storage", str(target / "storage"), "--to-data-dir",
                str(target), "--quiet", data_dir=source)
    assert "every digest verified" in again.output
