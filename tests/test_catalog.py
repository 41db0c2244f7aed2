"""The catalog: migrations as the only schema source, refusing unknown schemas, claims."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from archive.catalog import Catalog, FileSummary, catalog_url, head_revision
from archive.errors import CatalogError
from archive.models import Base

TABLES = [
    "alembic_version",
    "export_records",
    "exports",
    "ingest_errors",
    "records",
    "settings",
    "warc_files",
]


def test_new_catalog_is_created_at_head(catalog: Catalog) -> None:
    assert catalog.current_revision() == head_revision()
    assert catalog.table_names() == TABLES


def test_migrations_create_exactly_the_models(catalog: Catalog) -> None:
    # If a model changes without a migration (or the reverse), this diff is not empty.
    with catalog.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_and_upgrade_again(catalog: Catalog) -> None:
    catalog.downgrade("base")
    assert catalog.current_revision() is None
    assert catalog.table_names() == ["alembic_version"]
    catalog.upgrade()
    assert catalog.current_revision() == head_revision()
    assert catalog.table_names() == TABLES


def test_catalog_from_a_newer_archivist_is_refused_and_untouched(db_url: str) -> None:
    Catalog.open(db_url).close()
    raw = Catalog.open(db_url, check=False)
    with raw.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
    raw.close()
    with pytest.raises(CatalogError, match="newer than this archivist knows"):
        Catalog.open(db_url)
    raw = Catalog.open(db_url, check=False)
    assert raw.current_revision() == "f00dfeed"
    raw.close()


def test_sqlite_path_in_missing_directory_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no such directory"):
        Catalog.open(str(tmp_path / "nowhere" / "catalog.db"))


def test_a_file_that_is_not_sqlite_is_a_catalog_error(tmp_path: Path) -> None:
    bogus = tmp_path / "catalog.db"
    bogus.write_bytes(b"this is not a database, just some text " * 100)
    with pytest.raises(CatalogError, match=r"catalog\.db"):
        Catalog.open(str(bogus))


def test_unreachable_postgres_is_one_clear_error() -> None:
    # Port 9 (discard) on loopback: nothing listens there, the connection is refused at once.
    with pytest.raises(CatalogError, match="cannot open catalog") as info:
        Catalog.open("postgresql://nobody:secret@127.0.0.1:9/none")
    assert "secret" not in str(info.value)


def test_catalog_url_forms(tmp_path: Path) -> None:
    assert catalog_url(str(tmp_path / "a.db")) == f"sqlite:///{tmp_path / 'a.db'}"
    assert catalog_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert catalog_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert catalog_url("sqlite:///x.db") == "sqlite:///x.db"


def _summary(status: str = "complete") -> FileSummary:
    return FileSummary(status, "WARC/1.0", "gzip", None, None, None, 0, 0, None, None, "test")


def test_claim_is_granted_once_and_skips_recorded_files(catalog: Catalog) -> None:
    first = catalog.claim_file("a" * 64, 10, "/x/a.warc.gz")
    assert first.granted and first.status is None
    # Our own live claim: another writer in this process is working on it.
    again = catalog.claim_file("a" * 64, 10, "/y/a-copy.warc.gz")
    assert not again.granted and again.status == "ingesting"
    catalog.record_file(first.file_id, _summary(), [], [])
    done = catalog.claim_file("a" * 64, 10, "/y/a-copy.warc.gz")
    assert not done.granted and done.status == "complete" and done.location == "/x/a.warc.gz"


def test_failed_file_is_claimed_again(catalog: Catalog) -> None:
    claim = catalog.claim_file("b" * 64, 10, "/x/b.warc")
    catalog.record_file(claim.file_id, _summary("failed"), [], [(0, "not a WARC file")])
    retry = catalog.claim_file("b" * 64, 10, "/x/b.warc")
    assert retry.granted and retry.file_id == claim.file_id


def test_stale_claim_of_a_dead_process_is_taken_over(catalog: Catalog) -> None:
    claim = catalog.claim_file("c" * 64, 10, "/x/c.warc")
    dead_pid = _dead_pid()
    with catalog.engine.begin() as connection:
        connection.execute(
            text("UPDATE warc_files SET claimed_by = :owner WHERE id = :id"),
            {"owner": f"{os.uname().nodename}:{dead_pid}", "id": claim.file_id},
        )
    takeover = catalog.claim_file("c" * 64, 10, "/x/c.warc")
    assert takeover.granted and takeover.file_id == claim.file_id


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_upgrade_from_0001_backfills_capture_flags(db_url: str) -> None:
    catalog = Catalog.open(db_url, check=False)
    catalog.upgrade("0001")
    with catalog.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO warc_files (id, sha256, size, location, status, record_count, "
                "capture_count, error_count) VALUES (1, 'f', 1, '/x', 'partial', 3, 3, 1)"
            )
        )
        for offset, rtype, uri, precision in (
            (0, "response", "http://a.example/", "second"),
            (100, "resource", "file:///etc/x", "second"),
            (200, "response", "http://b.example/", "day"),
        ):
            connection.execute(
                text(
                    'INSERT INTO records (file_id, "offset", length, record_type, target_uri, '
                    "capture_time, date_precision, block_digest_status, payload_digest_status) "
                    "VALUES (1, :o, 10, :t, :u, '2019-01-01 00:00:00', :p, 'ok', 'ok')"
                ),
                {"o": offset, "t": rtype, "u": uri, "p": precision},
            )
        connection.execute(
            text(
                'INSERT INTO ingest_errors (file_id, "offset", message) '
                "VALUES (1, 200, 'record truncated: block has 5 of 10 bytes')"
            )
        )
    catalog.upgrade()
    with catalog.engine.connect() as connection:
        rows = connection.execute(
            text(
                'SELECT "offset", is_capture, date_trusted, damaged FROM records ORDER BY "offset"'
            )
        ).all()
    catalog.close()
    assert [tuple(r) for r in rows] == [
        (0, True, True, False),
        (100, False, True, False),
        (200, True, False, True),
    ]
