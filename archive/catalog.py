"""The catalog: opening it, migrating it, and the named questions other modules may ask of it.

No other module writes SQL. The schema lives in ``archive.models`` and is created and changed
only by the Alembic migrations in ``migrations/``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import (
    Engine,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from archive.cutoffs import DEFAULT_CUTOFF, Cutoff, parse_cutoff
from archive.errors import CatalogError
from archive.evidence import (
    RelabelResult,
    affected_by_file,
    affected_by_texts_of,
    label_counts,
    relabel,
)
from archive.models import IngestError, Record, Setting, WarcFile
from archive.text import EXTRACTOR, TEXT_MIMES

DEFAULT_DB = "archive.db"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# A claim on a file older than this, whose owner cannot be checked, is taken over.
STALE_CLAIM = timedelta(hours=6)


def catalog_url(db: str) -> str:
    """Turn ``--db`` (a path or an SQLAlchemy URL) into an SQLAlchemy URL."""
    if "://" not in db:
        return f"sqlite:///{Path(db).expanduser().resolve()}"
    if db.startswith(("postgresql://", "postgres://")):
        # psycopg 3 is the driver we ship; SQLAlchemy would otherwise look for psycopg2.
        return "postgresql+psycopg://" + db.split("://", 1)[1]
    return db


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while one writer commits; NORMAL sync is crash-safe under WAL
    # (a power cut may lose the last commit, never corrupt the file).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=600000")
    cursor.close()


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this version of archivist knows."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


class Catalog:
    """An open catalog (SQLite file or PostgreSQL database)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def url(self) -> str:
        """The catalog's URL with any password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @classmethod
    def open(cls, db: str = DEFAULT_DB, *, upgrade: bool = True, check: bool = True) -> Catalog:
        """Connect to ``db``; create the schema in a new empty catalog; refuse an unknown one.

        ``check=False`` only connects (for the ``db`` commands that inspect or migrate).
        """
        url = catalog_url(db)
        try:
            engine = create_engine(url, pool_pre_ping=True)
        except (ArgumentError, SQLAlchemyError, ImportError) as exc:
            raise CatalogError(f"cannot use catalog {_redacted(url)}: {exc}") from exc
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            path = engine.url.database
            if path and not Path(path).parent.is_dir():
                raise CatalogError(f"cannot create catalog {path}: no such directory")
        catalog = cls(engine)
        current = catalog.current_revision()
        if not check:
            return catalog
        if current is None:
            if upgrade:
                catalog.upgrade()
        elif current != head_revision():
            known = {s.revision for s in catalog._scripts().walk_revisions()}
            if current not in known:
                raise CatalogError(
                    f"catalog {catalog.url} has schema revision {current}, newer than this "
                    "archivist knows: upgrade archivist"
                )
            raise CatalogError(
                f"catalog {catalog.url} is at schema revision {current}, older than "
                f"{head_revision()}: run `archivist db upgrade`"
            )
        return catalog

    def _scripts(self) -> ScriptDirectory:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        return ScriptDirectory.from_config(config)

    def current_revision(self) -> str | None:
        """The schema revision recorded in the catalog, or None for an empty database."""
        try:
            with self.engine.connect() as connection:
                return MigrationContext.configure(connection).get_current_revision()
        except OperationalError as exc:
            raise CatalogError(f"cannot open catalog {self.url}: {_first_line(exc)}") from exc
        except SQLAlchemyError as exc:
            raise CatalogError(f"catalog {self.url} is unusable: {_first_line(exc)}") from exc

    def upgrade(self, revision: str = "head") -> None:
        """Apply migrations up to ``revision``."""
        self._migrate(command.upgrade, revision)

    def downgrade(self, revision: str) -> None:
        """Undo migrations down to ``revision`` (``base`` removes every table)."""
        self._migrate(command.downgrade, revision)

    def _migrate(self, step: Any, revision: str) -> None:
        try:
            with self.engine.begin() as connection:
                step(_alembic_config(connection), revision)
        except SQLAlchemyError as exc:
            raise CatalogError(f"migration of {self.url} failed: {_first_line(exc)}") from exc
        except CommandError as exc:  # e.g. a revision that does not exist
            raise CatalogError(f"cannot migrate {self.url}: {_first_line(exc)}") from exc

    def table_names(self) -> list[str]:
        """The tables present (for checks and tests)."""
        return sorted(inspect(self.engine).get_table_names())

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    # -- files ---------------------------------------------------------------------------

    def file_by_sha256(self, sha256: str) -> WarcFile | None:
        """The file with these bytes, if the catalog has it."""
        # Through a Session: a Core connection would return the columns, not a WarcFile.
        with Session(self.engine) as session:
            return session.scalars(select(WarcFile).where(WarcFile.sha256 == sha256)).first()

    def claim_file(self, sha256: str, size: int, location: str) -> Claim:
        """Reserve a file for ingest, unless it is recorded already or another live writer has it.

        A claim is its own short transaction, so two writers offered the same bytes race on the
        unique SHA-256 and exactly one of them wins.
        """
        owner = _owner()
        now = datetime.now(UTC)
        with self.engine.begin() as connection:
            existing = connection.execute(
                select(
                    WarcFile.id,
                    WarcFile.status,
                    WarcFile.location,
                    WarcFile.claimed_by,
                    WarcFile.claimed_at,
                ).where(WarcFile.sha256 == sha256)
            ).first()
            if existing is None:
                try:
                    with connection.begin_nested():
                        file_id = connection.execute(
                            insert(WarcFile)
                            .values(
                                sha256=sha256,
                                size=size,
                                location=location,
                                status="ingesting",
                                record_count=0,
                                capture_count=0,
                                error_count=0,
                                claimed_by=owner,
                                claimed_at=now,
                            )
                            .returning(WarcFile.id)
                        ).scalar_one()
                    return Claim(file_id, True, None, None)
                except IntegrityError:
                    existing = connection.execute(
                        select(
                            WarcFile.id,
                            WarcFile.status,
                            WarcFile.location,
                            WarcFile.claimed_by,
                            WarcFile.claimed_at,
                        ).where(WarcFile.sha256 == sha256)
                    ).one()
            file_id, status, where, claimed_by, claimed_at = existing
            live_claim = status == "ingesting" and not _claim_is_stale(claimed_by, claimed_at, now)
            if live_claim or status in ("complete", "partial"):
                return Claim(file_id, False, status, where)
            # A failed file is tried again; a stale claim's writer died having committed nothing
            # but the claim itself. Either way this writer takes the file over, unless another
            # writer took it over first: the update only applies to the row as it was read.
            same_owner = (
                WarcFile.claimed_by.is_(None)
                if claimed_by is None
                else WarcFile.claimed_by == claimed_by
            )
            taken = connection.execute(
                update(WarcFile)
                .where(WarcFile.id == file_id, WarcFile.status == status, same_owner)
                .values(
                    status="ingesting",
                    location=location,
                    claimed_by=owner,
                    claimed_at=now,
                    size=size,
                )
            )
            if taken.rowcount != 1:
                return Claim(file_id, False, "ingesting", where)
            return Claim(file_id, True, status, where)

    def record_file(
        self,
        file_id: int,
        summary: FileSummary,
        records: Iterable[Sequence[dict[str, Any]]],
        errors: Iterable[tuple[int | None, str]],
    ) -> None:
        """Store a file's records, errors and summary in one transaction."""
        with self.engine.begin() as connection:
            # Nothing of this file may be in the catalog yet: a crashed writer commits nothing.
            connection.execute(delete(Record).where(Record.file_id == file_id))
            connection.execute(delete(IngestError).where(IngestError.file_id == file_id))
            for batch in records:
                if batch:
                    connection.execute(
                        insert(Record), [dict(row, file_id=file_id) for row in batch]
                    )
            error_rows = [
                {"file_id": file_id, "offset": offset, "message": message}
                for offset, message in errors
            ]
            if error_rows:
                connection.execute(insert(IngestError), error_rows)
            # Labels are part of the same transaction: the catalog never shows a file whose
            # captures (or the captures it gives evidence to) are labelled for a stale state.
            relabel(connection, _cutoff_in(connection), affected_by_file(file_id))
            connection.execute(
                update(WarcFile)
                .where(WarcFile.id == file_id)
                .values(
                    status=summary.status,
                    format=summary.format,
                    compression=summary.compression,
                    software=summary.software,
                    operator=summary.operator,
                    is_part_of=summary.is_part_of,
                    record_count=summary.record_count,
                    capture_count=summary.capture_count,
                    error_count=len(error_rows),
                    first_capture=summary.first_capture,
                    last_capture=summary.last_capture,
                    ingested_at=datetime.now(UTC),
                    archivist_version=summary.archivist_version,
                    claimed_by=None,
                    claimed_at=None,
                )
            )

    def errors_of_file(self, file_id: int) -> list[tuple[int | None, str]]:
        """The problems recorded for a file, in file order."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(IngestError.offset, IngestError.message)
                .where(IngestError.file_id == file_id)
                .order_by(IngestError.id)
            ).all()
        return [(offset, message) for offset, message in rows]

    def records_of_file(self, file_id: int) -> Iterator[Record]:
        """All records of one file in offset order (streamed)."""
        with Session(self.engine) as session:
            yield from session.scalars(
                select(Record)
                .where(Record.file_id == file_id)
                .order_by(Record.offset)
                .execution_options(yield_per=1000)
            )

    def count_records(self) -> int:
        """How many records the catalog holds."""
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(Record)).scalar_one())


@dataclass(frozen=True)
class Claim:
    """The answer to a claim: whether this writer should ingest the file, and if not why."""

    file_id: int
    granted: bool
    status: str | None  # the status found in the catalog, if the file was there
    location: str | None  # where the catalog first saw these bytes


@dataclass(frozen=True)
class FileSummary:
    """What a finished ingest of one file records on its row."""

    status: str
    format: str | None
    compression: str | None
    software: str | None
    operator: str | None
    is_part_of: str | None
    record_count: int
    capture_count: int
    first_capture: datetime | None
    last_capture: datetime | None
    archivist_version: str


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim_is_stale(claimed_by: str | None, claimed_at: datetime | None, now: datetime) -> bool:
    """Whether the writer holding a claim is gone (dead process here, or silent for too long)."""
    if not claimed_by:
        return True
    host, _, pid_text = claimed_by.rpartition(":")
    if host == socket.gethostname() and pid_text.isdigit():
        pid = int(pid_text)
        if pid == os.getpid():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return claimed_at is None or now - claimed_at > STALE_CLAIM


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


# -- cutoff and labels ---------------------------------------------------------------------------

CUTOFF_KEY = "cutoff"


def _cutoff_in(connection: Connection) -> Cutoff:
    value = connection.execute(select(Setting.value).where(Setting.key == CUTOFF_KEY)).scalar()
    return parse_cutoff(value or DEFAULT_CUTOFF)


def catalog_cutoff(catalog: Catalog) -> Cutoff:
    """The cutoff the catalog's labels are computed for (``chatgpt`` until relabelled)."""
    with catalog.engine.connect() as connection:
        return _cutoff_in(connection)


def relabel_catalog(catalog: Catalog, cutoff: Cutoff) -> RelabelResult:
    """Make ``cutoff`` the catalog's cutoff and recompute every capture's label, in one go."""
    with catalog.engine.begin() as connection:
        connection.execute(delete(Setting).where(Setting.key == CUTOFF_KEY))
        connection.execute(insert(Setting).values(key=CUTOFF_KEY, value=cutoff.name))
        relabel(connection, cutoff)
        return label_counts(connection)


def label_stats(catalog: Catalog) -> RelabelResult:
    """Counts of captures by label and by evidence kind."""
    with catalog.engine.connect() as connection:
        return label_counts(connection)


# -- questions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaptureRow:
    """A record joined with the file that holds it: what lookups and `show` print."""

    record: Record
    file_location: str
    file_sha256: str
    file_compression: str | None
    file_size: int


CAPTURE_TYPES = ("response", "resource", "revisit")


def _prefix_range(column: Any, prefix: str) -> Any:
    """``column`` starts with ``prefix``, as a range the index can serve (no LIKE escaping)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < upper)


# Undated captures last on both backends (SQLite sorts NULL first, PostgreSQL last): an
# "earliest capture" must be one whose date is known.
_EARLIEST_FIRST = (Record.capture_time.asc().nulls_last(), Record.id)


def _capture_select() -> Any:
    return select(
        Record, WarcFile.location, WarcFile.sha256, WarcFile.compression, WarcFile.size
    ).join(WarcFile, Record.file_id == WarcFile.id)


def _capture_rows(catalog: Catalog, statement: Any) -> list[CaptureRow]:
    with Session(catalog.engine) as session:
        return [CaptureRow(*row) for row in session.execute(statement)]


def captures_by_surt(
    catalog: Catalog,
    prefixes: Sequence[str],
    *,
    exact: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[CaptureRow]:
    """Captures whose SURT key is (``exact``) or starts with one of ``prefixes``, oldest first."""
    condition: Any = (
        Record.surt.in_(list(prefixes))
        if exact
        else or_(*(_prefix_range(Record.surt, p) for p in prefixes))
    )
    statement = _capture_select().where(condition, Record.record_type.in_(CAPTURE_TYPES))
    if since is not None:
        statement = statement.where(Record.capture_time >= since)
    if until is not None:
        statement = statement.where(Record.capture_time < until)
    statement = statement.order_by(*_EARLIEST_FIRST).limit(limit)
    return _capture_rows(catalog, statement)


def captures_by_payload(
    catalog: Catalog, sha256: str, *, limit: int | None = None
) -> list[CaptureRow]:
    """Captures whose payload has this SHA-256, earliest first."""
    statement = (
        _capture_select()
        .where(Record.payload_sha256 == sha256.lower(), Record.record_type.in_(CAPTURE_TYPES))
        .order_by(*_EARLIEST_FIRST)
        .limit(limit)
    )
    return _capture_rows(catalog, statement)


def records_by_id(catalog: Catalog, identifier: str) -> list[CaptureRow]:
    """Records named by a catalog id (a number) or a WARC-Record-ID (``urn:uuid:...``)."""
    text = identifier.strip().removeprefix("<").removesuffix(">")
    # A catalog id is a positive 64-bit integer; longer digit strings cannot name one.
    is_id = text.isdigit() and len(text) <= 18
    condition = Record.id == int(text) if is_id else Record.warc_record_id == text
    return _capture_rows(catalog, _capture_select().where(condition).order_by(Record.id))


def errors_at(catalog: Catalog, file_id: int, offset: int) -> list[str]:
    """Problems recorded at one offset of one file."""
    with catalog.engine.connect() as connection:
        rows = connection.execute(
            select(IngestError.message)
            .where(IngestError.file_id == file_id, IngestError.offset == offset)
            .order_by(IngestError.id)
        ).scalars()
        return list(rows)


@dataclass(frozen=True)
class CatalogStats:
    """Totals and breakdowns of what the catalog holds."""

    files: int
    files_by_status: dict[str, int]
    records: int
    records_by_type: dict[str, int]
    captures_by_year: dict[str, int]
    block_digests: dict[str, int]
    payload_digests: dict[str, int]
    top_hosts: list[tuple[str, int]]
    errors: int


def catalog_stats(catalog: Catalog, *, top: int = 10) -> CatalogStats:
    """Count files, records by type, captures by year, digest results and the busiest hosts."""
    dialect = catalog.engine.dialect.name
    if dialect == "sqlite":
        year = func.strftime("%Y", Record.capture_time)
        host = func.substr(Record.surt, 1, func.instr(Record.surt, ")") - 1)
    else:
        year = func.to_char(Record.capture_time, "YYYY")
        host = func.split_part(Record.surt, ")", 1)
    captures = Record.record_type.in_(CAPTURE_TYPES)

    def grouped(connection: Connection, key: Any, *where: Any) -> dict[str, int]:
        statement = select(key, func.count()).where(*where).group_by(key).order_by(key)
        return {str(k): int(n) for k, n in connection.execute(statement)}

    with catalog.engine.connect() as connection:
        files_by_status = grouped(connection, WarcFile.status)
        records_by_type = grouped(connection, Record.record_type)
        by_year = grouped(connection, year, captures, Record.capture_time.is_not(None))
        block = grouped(connection, Record.block_digest_status)
        payload = grouped(connection, Record.payload_digest_status)
        hosts = connection.execute(
            select(host.label("host"), func.count().label("n"))
            .where(captures, Record.surt.is_not(None))
            .group_by(host)
            .order_by(func.count().desc(), host)
            .limit(top)
        ).all()
        errors = connection.execute(select(func.count()).select_from(IngestError)).scalar_one()
    return CatalogStats(
        files=sum(files_by_status.values()),
        files_by_status=files_by_status,
        records=sum(records_by_type.values()),
        records_by_type=records_by_type,
        captures_by_year=by_year,
        block_digests=block,
        payload_digests=payload,
        top_hosts=[(str(h), int(n)) for h, n in hosts],
        errors=int(errors),
    )


# -- the text stage ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextResult:
    """The text stage's verdict on one capture: its text hash, or why it has none."""

    record_id: int
    text_sha256: str | None
    status: str  # ok | empty | error | too-large


def _needs_text(record: Any = Record) -> Any:
    """SQL: an intact, non-empty text/HTML capture whose text has not been extracted yet."""
    return and_(
        record.is_capture.is_(True),
        record.record_type != "revisit",
        record.mime.in_(sorted(TEXT_MIMES)),
        record.payload_length > 0,
        record.damaged.is_(False),
        record.text_status.is_(None),
    )


def files_needing_text(
    catalog: Catalog, file_ids: Sequence[int] | None = None
) -> list[tuple[int, str, str]]:
    """(id, location, compression) of recorded files with captures that lack their text."""
    statement = (
        select(WarcFile.id, WarcFile.location, WarcFile.compression)
        .where(
            WarcFile.status.in_(("complete", "partial")),
            exists(select(Record.id).where(Record.file_id == WarcFile.id, _needs_text())),
        )
        .order_by(WarcFile.id)
    )
    if file_ids is not None:
        statement = statement.where(WarcFile.id.in_(file_ids))
    with catalog.engine.connect() as connection:
        return [(i, loc, comp or "none") for i, loc, comp in connection.execute(statement)]


def text_candidates(catalog: Catalog, file_id: int) -> dict[int, int]:
    """Offset -> record id of the captures of one file that lack their text."""
    with catalog.engine.connect() as connection:
        rows = connection.execute(
            select(Record.offset, Record.id).where(Record.file_id == file_id, _needs_text())
        )
        return {offset: record_id for offset, record_id in rows}


def record_texts(catalog: Catalog, file_id: int, results: Sequence[TextResult]) -> None:
    """Store text hashes of one file's captures and relabel what they can change, atomically."""
    if not results:
        return
    with catalog.engine.begin() as connection:
        connection.execute(
            update(Record)
            .where(Record.id == bindparam("rid"))
            .values(
                text_sha256=bindparam("sha"),
                text_status=bindparam("status"),
                text_extractor=bindparam("extractor"),
            )
            .execution_options(synchronize_session=False),
            [
                {"rid": r.record_id, "sha": r.text_sha256, "status": r.status,
                 "extractor": EXTRACTOR}
                for r in results
            ],
        )
        if any(r.text_sha256 for r in results):
            relabel(connection, _cutoff_in(connection), affected_by_texts_of(file_id))
