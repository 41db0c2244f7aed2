"""The catalog: migrations as the only schema source, refusing unknown schemas, claims."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


def test_sqlite_catalog_runs_in_wal_mode_with_normal_sync(sqlite_catalog: Catalog) -> None:
    with sqlite_catalog.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        # 1 = NORMAL: crash-safe under WAL (a power cut may lose the last commit, not the file).
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


# -- the bulk path for records ---------------------------------------------------------------------

AWKWARD = "tab\there, new\nline, back\\slash, \\N, quote ' \" , comma, ü, 😀, \r\x7f end"


def _row(offset: int, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "offset": offset,
        "length": 2**40 + offset,
        "warc_record_id": f"<urn:uuid:{offset}>",
        "record_type": "response",
        "target_uri": "http://a.test/",
        "surt": "test,a)/",
        "capture_time": datetime(2019, 3, 14, 9, 0, 0, 123456, tzinfo=UTC),
        "date_raw": "2019-03-14T09:00:00.123456Z",
        "date_precision": "microsecond",
        "http_status": 200,
        "mime": "text/html",
        "content_length": 2**53 + 1,
        "payload_length": 0,
        "payload_sha256": None,
        "block_digest": None,
        "block_digest_algorithm": None,
        "block_digest_status": "absent",
        "payload_digest": None,
        "payload_digest_algorithm": None,
        "payload_digest_status": "absent",
        "payload_digest_matched": None,
        "truncated": AWKWARD,
        "revisit_profile": None,
        "refers_to": None,
        "refers_to_target_uri": None,
        "refers_to_date_raw": None,
        "refers_to_date": datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
        "last_modified_raw": "",
        "last_modified": None,
        "is_capture": True,
        "date_trusted": False,
        "damaged": True,
        "payload_digest_key": None,
        "refers_to_surt": None,
    }
    row.update(changes)
    return row


def test_record_rows_are_stored_exactly(catalog: Catalog) -> None:
    claim = catalog.claim_file("e" * 64, 10, "/x/e.warc")
    rows = [_row(i) for i in range(5)]
    rows[1]["capture_time"] = None
    rows[2]["capture_time"] = datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)
    rows[3]["truncated"] = None
    rows[4]["is_capture"] = False
    catalog.record_file(claim.file_id, _summary(), [rows[:2], [], rows[2:]], [])
    stored = list(catalog.records_of_file(claim.file_id))
    assert len(stored) == 5
    for row, record in zip(rows, stored, strict=True):
        assert {k: getattr(record, k) for k in row} == row
        assert record.file_id == claim.file_id


def test_nul_in_a_header_value_is_kept_by_sqlite_and_replaced_on_postgresql(
    catalog: Catalog,
) -> None:
    claim = catalog.claim_file("f" * 64, 10, "/x/f.warc")
    catalog.record_file(claim.file_id, _summary(), [[_row(0, truncated="a\x00b")]], [])
    (record,) = catalog.records_of_file(claim.file_id)
    postgres = catalog.engine.dialect.name == "postgresql"
    assert record.truncated == ("a\ufffdb" if postgres else "a\x00b")


def test_a_refused_row_records_nothing_and_fails_the_file(catalog: Catalog) -> None:
    claim = catalog.claim_file("g" * 64, 10, "/x/g.warc")
    rows = [_row(0), _row(1, record_type=None)]  # NOT NULL
    with pytest.raises(CatalogError, match="rolled back"):
        catalog.record_file(claim.file_id, _summary(), [rows], [])
    assert catalog.count_records() == 0
    file = catalog.file_by_sha256("g" * 64)
    assert file is not None and file.status == "failed" and file.claimed_by is None
    (problem,) = catalog.errors_of_file(claim.file_id)
    assert problem[0] is None and "rolled back" in problem[1]
    retry = catalog.claim_file("g" * 64, 10, "/x/g.warc")
    assert retry.granted


def test_rows_with_unknown_columns_are_refused(catalog: Catalog) -> None:
    claim = catalog.claim_file("h" * 64, 10, "/x/h.warc")
    with pytest.raises(CatalogError, match="not record columns: colour"):
        catalog.record_file(claim.file_id, _summary(), [[_row(0, colour="red")]], [])
    assert catalog.count_records() == 0


def test_an_abandoned_claim_is_failed_and_tried_again(catalog: Catalog) -> None:
    claim = catalog.claim_file("i" * 64, 10, "/x/i.warc")
    catalog.abandon_claim(claim.file_id, "worker cancelled")
    file = catalog.file_by_sha256("i" * 64)
    assert file is not None and file.status == "failed"
    assert catalog.errors_of_file(claim.file_id) == [(None, "worker cancelled")]
    assert catalog.claim_file("i" * 64, 10, "/x/i.warc").granted


# -- leases: a claim lives as long as its writer's session (PostgreSQL) ----------------------------


@pytest.mark.postgres
def test_a_lease_makes_a_claim_live_on_any_host_until_its_session_ends(db_url: str) -> None:
    if "://" not in db_url:
        pytest.skip("leases are PostgreSQL's")
    holder, other = Catalog.open(db_url), Catalog.open(db_url)
    try:
        claim = holder.claim_file("j" * 64, 10, "/x/j.warc")
        with holder.engine.begin() as connection:
            connection.execute(
                text("UPDATE warc_files SET claimed_by = 'far.away:1' WHERE id = :id"),
                {"id": claim.file_id},
            )
        busy = other.claim_file("j" * 64, 10, "/y/j.warc")
        assert not busy.granted and busy.status == "ingesting"
        holder.close()  # the writer's session ends (its machine is gone)
        takeover = other.claim_file("j" * 64, 10, "/y/j.warc")
        assert takeover.granted and takeover.file_id == claim.file_id
        # The new claimant holds the lease in turn, until it records the file.
        assert not holder.claim_file("j" * 64, 10, "/z/j.warc").granted
        other.record_file(takeover.file_id, _summary(), [[_row(0)]], [])
        assert holder.claim_file("j" * 64, 10, "/z/j.warc").status == "complete"
    finally:
        holder.close()
        other.close()


@pytest.mark.postgres
def test_recording_a_file_releases_its_lease_and_its_connection(db_url: str) -> None:
    if "://" not in db_url:
        pytest.skip("leases are PostgreSQL's")
    catalog = Catalog.open(db_url)
    try:
        for n in range(3):
            claim = catalog.claim_file(f"{n}" * 64, 10, f"/x/{n}.warc")
            catalog.record_file(claim.file_id, _summary(), [[_row(0)]], [])
        with catalog.engine.connect() as connection:
            held = connection.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
            ).scalar_one()
        assert held == 0
        assert catalog._leases == {}
    finally:
        catalog.close()
