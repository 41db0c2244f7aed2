"""The catalog: opening it, migrating it, and the named questions other modules may ask of it.

No other module writes SQL. The schema lives in ``archive.models`` and is created and changed
only by the Alembic migrations in ``migrations/``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import socket
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, NamedTuple

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import (
    Engine,
    and_,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from archive.cutoffs import DEFAULT_CUTOFF, Cutoff, parse_cutoff
from archive.dates import format_utc
from archive.errors import CatalogError
from archive.evidence import (
    KINDS,
    LABELS,
    RelabelResult,
    affected_by_file,
    affected_by_texts_of,
    dated_capture,
    label_counts,
    relabel,
    revisit_loops,
)
from archive.models import Export, ExportRecord, IngestError, Record, Setting, WarcFile
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


def _name_session(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
    # Operators (and the tests) tell writers apart in pg_stat_activity by host and process.
    params.setdefault("application_name", f"archivist {_owner()}"[:63])
    # JIT compilation pays for long analytic queries; the labelling UPDATEs of each file are
    # estimated costly enough to trigger it and then spend most of their time compiling:
    # measured 5.7 s instead of 0.4 s per 10,000-record file once the catalog held 60,000
    # records (docs/scaling.md).
    params.setdefault("options", "-c jit=off")


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
        # PostgreSQL: the connection holding the lease of each file this writer has claimed.
        self._leases: dict[int, Connection] = {}

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
        elif engine.dialect.name == "postgresql":
            event.listen(engine, "do_connect", _name_session)
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
        """Release the connection pool, and the leases of files claimed but not recorded."""
        for file_id in list(self._leases):
            self._end_lease(file_id)
        self.engine.dispose()

    # -- files ---------------------------------------------------------------------------

    def file_by_sha256(self, sha256: str) -> WarcFile | None:
        """The file with these bytes, if the catalog has it."""
        # Through a Session: a Core connection would return the columns, not a WarcFile.
        with Session(self.engine) as session:
            return session.scalars(select(WarcFile).where(WarcFile.sha256 == sha256)).first()

    def file_by_location(self, location: str) -> WarcFile | None:
        """The file most recently recorded at ``location`` (a path or a URL), if any."""
        with Session(self.engine) as session:
            return session.scalars(
                select(WarcFile).where(WarcFile.location == location).order_by(WarcFile.id.desc())
            ).first()

    def claim_file(self, sha256: str, size: int, location: str) -> Claim:
        """Reserve a file for ingest, unless it is recorded already or another live writer has it.

        A claim is its own short transaction, so two writers offered the same bytes race on the
        unique SHA-256 and exactly one of them wins. On PostgreSQL the winner also holds the
        file's lease (see `_try_lease`) until `record_file` or `abandon_claim` ends it.
        """
        owner = _owner()
        now = datetime.now(UTC)
        connection = self.engine.connect()
        try:
            with connection.begin():
                claim = self._claim_in(connection, sha256, size, location, owner, now)
        except BaseException:
            _close_lease(connection)
            raise
        if claim.granted and self._leased:
            self._leases[claim.file_id] = connection
        else:
            _close_lease(connection)
        return claim

    def _claim_in(
        self,
        connection: Connection,
        sha256: str,
        size: int,
        location: str,
        owner: str,
        now: datetime,
    ) -> Claim:
        if not self._leased:
            # SQLite: take the write lock first, so that no other writer commits between this
            # transaction's read and its write (WAL would refuse the write without waiting).
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        row = select(
            WarcFile.id,
            WarcFile.status,
            WarcFile.location,
            WarcFile.claimed_by,
            WarcFile.claimed_at,
        ).where(WarcFile.sha256 == sha256)
        existing = connection.execute(row).first()
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
                    # The lease is taken before the row is visible to anyone: no other writer
                    # can find this claim without its lease held.
                    if self._leased and not _try_lease(connection, file_id):
                        raise CatalogError(f"the lease of new file #{file_id} is held elsewhere")
                return Claim(file_id, True, None, None)
            except IntegrityError:
                existing = connection.execute(row).one()
        file_id, status, where, claimed_by, claimed_at = existing
        if status in ("complete", "partial"):
            return Claim(file_id, False, status, where)
        if self._leased:
            if file_id in self._leases:
                # This process holds the lease: the claim is its own, unless the row now names
                # a writer known to be gone (only a test rewrites a live claim's owner).
                if claimed_by == owner or not _claim_is_stale(claimed_by, claimed_at, now):
                    return Claim(file_id, False, status, where)
                self._end_lease(file_id)
            # A free lease means the claimant's session is gone, whatever host it ran on.
            if not _try_lease(connection, file_id):
                return Claim(file_id, False, "ingesting", where)
        elif status == "ingesting" and not _claim_is_stale(claimed_by, claimed_at, now):
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
                status="ingesting", location=location, claimed_by=owner, claimed_at=now, size=size
            )
        )
        if taken.rowcount != 1:
            if self._leased:
                connection.execute(select(func.pg_advisory_unlock(_lease_key(file_id))))
            now_status = connection.execute(row).one()
            return Claim(file_id, False, now_status.status, now_status.location)
        return Claim(file_id, True, status, where)

    @property
    def _leased(self) -> bool:
        """Whether claims hold a lease (PostgreSQL) rather than trust host, PID and age."""
        return self.engine.dialect.name == "postgresql"

    def _end_lease(self, file_id: int) -> None:
        lease = self._leases.pop(file_id, None)
        if lease is not None:
            _close_lease(lease)

    def record_file(
        self,
        file_id: int,
        summary: FileSummary,
        records: Iterable[Sequence[dict[str, Any]]],
        errors: Iterable[tuple[int | None, str]],
    ) -> None:
        """Store a file's records, errors and summary in one transaction.

        If the transaction fails (a lost connection, a row the database refuses), nothing of
        the file is stored: it is marked ``failed`` with the reason when the catalog can still
        be reached (so the next run tries it again), and `CatalogError` is raised.
        """
        lease = self._leases.pop(file_id, None)
        connection = lease if lease is not None else self.engine.connect()
        # The bulk path talks to the driver itself: its errors are not SQLAlchemy's.
        refused = (SQLAlchemyError, self.engine.dialect.loaded_dbapi.Error)
        try:
            with connection.begin():
                self._record_in(connection, file_id, summary, records, errors)
        except refused as exc:
            _close_lease(connection)
            reason = f"not recorded, its transaction rolled back: {_first_line(exc)}"
            self._mark_failed(file_id, reason)
            raise CatalogError(f"file #{file_id} {reason}") from exc
        except BaseException:
            _close_lease(connection)
            raise
        _close_lease(connection)

    def abandon_claim(self, file_id: int, reason: str) -> None:
        """Give up a claimed file without recording it: it is marked ``failed`` with ``reason``
        (nothing of its records is kept) and the next run tries it again.
        """
        self._end_lease(file_id)
        if not self._mark_failed(file_id, reason):
            raise CatalogError(f"cannot mark file #{file_id} failed in {self.url}")

    def _mark_failed(self, file_id: int, reason: str) -> bool:
        """Mark this writer's claim on a file failed; False when the catalog cannot be reached.

        A claim another writer has taken over meanwhile is left alone.
        """
        try:
            with self.engine.begin() as connection:
                mine = connection.execute(
                    update(WarcFile)
                    .where(
                        WarcFile.id == file_id,
                        WarcFile.status == "ingesting",
                        WarcFile.claimed_by == _owner(),
                    )
                    .values(status="failed", error_count=1, claimed_by=None, claimed_at=None)
                ).rowcount
                if mine:
                    connection.execute(delete(Record).where(Record.file_id == file_id))
                    connection.execute(delete(IngestError).where(IngestError.file_id == file_id))
                    connection.execute(
                        insert(IngestError).values(file_id=file_id, offset=None, message=reason)
                    )
        except SQLAlchemyError:
            return False
        return True

    def _record_in(
        self,
        connection: Connection,
        file_id: int,
        summary: FileSummary,
        records: Iterable[Sequence[dict[str, Any]]],
        errors: Iterable[tuple[int | None, str]],
    ) -> None:
        # Nothing of this file may be in the catalog yet: a crashed writer commits nothing.
        connection.execute(delete(Record).where(Record.file_id == file_id))
        connection.execute(delete(IngestError).where(IngestError.file_id == file_id))
        insert_records(connection, file_id, records)
        error_rows = [
            {"file_id": file_id, "offset": offset, "message": message} for offset, message in errors
        ]
        if error_rows:
            connection.execute(insert(IngestError), error_rows)
        # Labels are part of the same transaction: the catalog never shows a file whose
        # captures (or the captures it gives evidence to) are labelled for a stale state.
        _serialise_labelling(connection)
        relabel(connection, _cutoff_in(connection), affected_by_file(connection, file_id))
        text_of = _text_for(connection)
        connection.execute(
            update(WarcFile)
            .where(WarcFile.id == file_id)
            .values(
                status=summary.status,
                format=summary.format,
                compression=summary.compression,
                software=text_of(summary.software),
                operator=text_of(summary.operator),
                is_part_of=text_of(summary.is_part_of),
                record_count=summary.record_count,
                capture_count=summary.capture_count,
                error_count=len(error_rows),
                first_capture=summary.first_capture,
                last_capture=summary.last_capture,
                ingested_at=datetime.now(UTC),
                archivist_version=summary.archivist_version,
                http_etag=text_of(summary.http_etag),
                http_last_modified=text_of(summary.http_last_modified),
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
    # The server's validators of a file ingested over HTTP(S).
    http_etag: str | None = None
    http_last_modified: str | None = None


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


# -- leases and the labelling lock (PostgreSQL) ----------------------------------------------------

# Advisory lock keys are one bigint space per database, shared with any other application:
# a lease's key carries "ARCH" in its high 32 bits and the claimed file's id in the low ones;
# the lock held by a transaction while it relabels is "LABL" in the high bits.
_LEASE_SPACE = 0x41524348 << 32
_LABEL_LOCK = 0x4C41424C << 32


def _lease_key(file_id: int) -> int:
    return _LEASE_SPACE | (file_id & 0xFFFFFFFF)


def _try_lease(connection: Connection, file_id: int) -> bool:
    """Take a file's lease: a session-level advisory lock held while its claimant lives.

    PostgreSQL releases it when the claimant's session ends for any reason (the process killed
    on whatever host, the connection lost), so a free lease on a file still ``ingesting`` means
    its writer is gone: no clock or host name has to be trusted.
    """
    query = select(func.pg_try_advisory_lock(_lease_key(file_id)))
    return bool(connection.execute(query).scalar_one())


def _close_lease(connection: Connection) -> None:
    """Return a connection to the pool without any lease, or discard it if that is unsure."""
    try:
        if not connection.invalidated and connection.dialect.name == "postgresql":
            if connection.in_transaction():
                connection.rollback()
            connection.execute(select(func.pg_advisory_unlock_all()))
            connection.commit()
    except SQLAlchemyError:
        connection.invalidate()
    finally:
        connection.close()


def _serialise_labelling(connection: Connection) -> None:
    """Let one transaction at a time relabel (PostgreSQL), until it commits.

    Two writers recording a 2021 copy and a 2024 capture of one payload would otherwise each
    relabel without seeing the other's uncommitted rows, and the 2024 capture would stay
    `post`. Waiting here, after the rows are written, the second writer's statements see the
    first one's commit (READ COMMITTED takes a snapshot per statement), as in a serial run.
    Only labelling waits; reading files and copying rows go on in parallel. SQLite has one
    writer at a time anyway.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(_LABEL_LOCK)))


# -- the bulk path for records -------------------------------------------------------------------


def _no_nul(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL (U+0000), which a header value decoded from bytes may
    # contain; it is stored as U+FFFD there. SQLite keeps it.
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


def _text_for(connection: Connection) -> Any:
    """The conversion of a text value for this backend (NUL for PostgreSQL, see `_no_nul`)."""
    return _no_nul if connection.dialect.name == "postgresql" else (lambda value: value)


def insert_records(
    connection: Connection, file_id: int, records: Iterable[Sequence[dict[str, Any]]]
) -> int:
    """Insert batches of ``records`` rows (dicts keyed by column, without ``file_id``) of one
    file, in the caller's transaction; returns how many.

    PostgreSQL gets them by ``COPY ... FROM STDIN`` on the transaction's own connection, about
    twice the rate of an INSERT executemany (measured in docs/scaling.md); SQLite by one
    prepared INSERT run with ``executemany`` on the driver. Values are converted by each
    column's own SQLAlchemy type, so they are stored exactly as a Core insert stores them.
    """
    dialect = connection.dialect
    postgres = dialect.name == "postgresql"
    # The DBAPI connection under the transaction: psycopg's for COPY, sqlite3's for executemany.
    driver: Any = connection.connection.driver_connection
    columns: list[Any] = []
    processors: list[Any] = []
    statement = ""
    copy: Any = None
    count = 0
    with ExitStack() as stack:
        for batch in records:
            if not batch:
                continue
            if not columns:
                names = batch[0].keys()
                unknown = set(names) - _RECORD_COLUMNS.keys()
                if unknown:
                    raise CatalogError(f"not record columns: {', '.join(sorted(unknown))}")
                if "file_id" in names:
                    raise CatalogError("record rows must not carry file_id: it is given apart")
                columns = [c for c in Record.__table__.columns if c.name in names]
                processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
                quoted = ", ".join(
                    dialect.identifier_preparer.quote(n)
                    for n in ["file_id", *(c.name for c in columns)]
                )
                if postgres:
                    cursor = stack.enter_context(driver.cursor())
                    copy = stack.enter_context(cursor.copy(f"COPY records ({quoted}) FROM STDIN"))
                else:
                    marks = ", ".join("?" * (len(columns) + 1))
                    statement = f"INSERT INTO records ({quoted}) VALUES ({marks})"
            rows = _rows(file_id, batch, columns, processors, postgres)
            if copy is not None:
                for row in rows:
                    copy.write_row(row)
            else:
                driver.executemany(statement, rows)
            count += len(batch)
    return count


_RECORD_COLUMNS = {c.name: c for c in Record.__table__.columns}


def _rows(
    file_id: int,
    batch: Sequence[dict[str, Any]],
    columns: Sequence[Any],
    processors: Sequence[Any],
    postgres: bool,
) -> list[tuple[Any, ...]]:
    """One batch as tuples in column order, built column by column (measured about twice as
    fast as row by row)."""
    values: list[list[Any]] = []
    for column, process in zip(columns, processors, strict=True):
        cells = [row[column.name] for row in batch]
        if process is not None:
            cells = [None if v is None else process(v) for v in cells]
        if postgres and column.type.python_type is str:
            present = [v for v in cells if v is not None]
            if "\x00" in "".join(present):
                cells = [_no_nul(v) for v in cells]
        values.append(cells)
    return list(zip(itertools.repeat(file_id, len(batch)), *values, strict=True))


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
        _serialise_labelling(connection)
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


def _surt_condition(prefixes: Sequence[str], exact: bool) -> Any:
    """The SURT key is one of ``prefixes`` (``exact``) or starts with one of them."""
    if exact:
        return Record.surt.in_(list(prefixes))
    return or_(*(_prefix_range(Record.surt, p) for p in prefixes))


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
    statement = _capture_select().where(
        _surt_condition(prefixes, exact), Record.record_type.in_(CAPTURE_TYPES)
    )
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
    return _captures_where(catalog, Record.payload_sha256 == sha256.lower(), limit)


def captures_by_text(
    catalog: Catalog, text_sha256: str, *, limit: int | None = None
) -> list[CaptureRow]:
    """Captures whose normalised main text has this SHA-256, earliest first."""
    return _captures_where(catalog, Record.text_sha256 == text_sha256.lower(), limit)


def _captures_where(catalog: Catalog, condition: Any, limit: int | None) -> list[CaptureRow]:
    statement = (
        _capture_select()
        .where(condition, Record.record_type.in_(CAPTURE_TYPES))
        .order_by(*_EARLIEST_FIRST)
        .limit(limit)
    )
    return _capture_rows(catalog, statement)


def capture_as_of(
    catalog: Catalog, prefixes: Sequence[str], when: datetime, *, exact: bool = False
) -> CaptureRow | None:
    """The latest capture selected as in `captures_by_surt`, at or before ``when`` (inclusive)."""
    statement = (
        _capture_select()
        .where(
            _surt_condition(prefixes, exact),
            Record.record_type.in_(CAPTURE_TYPES),
            Record.capture_time <= when,
        )
        .order_by(Record.capture_time.desc(), Record.id.desc())
        .limit(1)
    )
    rows = _capture_rows(catalog, statement)
    return rows[0] if rows else None


def first_seen(catalog: Catalog, payload_sha256: str) -> CaptureRow | None:
    """The earliest verified capture of this payload (a dated, intact response or resource).

    One query down the (payload_sha256, capture_time) index. Revisits are left out: they
    carry no payload of their own, only a claim that it did not change.
    """
    statement = (
        _capture_select()
        .where(
            Record.payload_sha256 == payload_sha256.lower(),
            dated_capture(),
            Record.record_type != "revisit",
        )
        .order_by(Record.capture_time, Record.id)
        .limit(1)
    )
    rows = _capture_rows(catalog, statement)
    return rows[0] if rows else None


def captures_by_ids(catalog: Catalog, ids: Iterable[int]) -> dict[int, CaptureRow]:
    """The records with these catalog ids, by id, in one query; unknown ids are left out."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = _capture_rows(catalog, _capture_select().where(Record.id.in_(wanted)))
    return {row.record.id: row for row in rows}


CaptureKey = Literal["surt", "payload", "text"]
_KEY_COLUMNS = {
    "surt": Record.surt,
    "payload": Record.payload_sha256,
    "text": Record.text_sha256,
}


@dataclass(frozen=True)
class EvidenceSummary:
    """What the catalog holds for one URL, payload or text, as a provenance verdict needs it."""

    by_label: dict[str, int]
    # The capture whose evidence is strongest (ladder order, then the earliest evidence).
    strongest: CaptureRow | None
    # The earliest capture with a date, whatever its label.
    earliest: CaptureRow | None


def evidence_summary(catalog: Catalog, key: CaptureKey, value: str) -> EvidenceSummary:
    """Counts by label, the strongest evidence and the earliest capture of a SURT key, a
    payload SHA-256 or a text SHA-256: three indexed queries whatever the number of captures.
    """
    column = _KEY_COLUMNS[key]
    where = [column == value, Record.is_capture == true()]
    basis = aliased(Record)
    rank = case(
        *((Record.evidence_kind == kind, n) for n, kind in enumerate(KINDS)), else_=len(KINDS)
    )
    strongest = (
        _capture_select()
        .outerjoin(basis, basis.id == Record.evidence_record_id)
        .where(*where)
        .order_by(
            rank,
            basis.capture_time.asc().nulls_last(),
            *_EARLIEST_FIRST,
        )
        .limit(1)
    )
    earliest = (
        _capture_select()
        .where(*where, Record.capture_time.is_not(None))
        .order_by(*_EARLIEST_FIRST)
        .limit(1)
    )
    with catalog.engine.connect() as connection:
        by_label = {
            str(label): int(n)
            for label, n in connection.execute(
                select(Record.label, func.count()).where(*where).group_by(Record.label)
            )
        }
    if not by_label:
        return EvidenceSummary({}, None, None)
    strongest_rows = _capture_rows(catalog, strongest)
    earliest_rows = _capture_rows(catalog, earliest)
    return EvidenceSummary(
        _in_order(by_label, LABELS),
        strongest_rows[0] if strongest_rows else None,
        earliest_rows[0] if earliest_rows else None,
    )


class IndexRow(NamedTuple):
    """One capture as a CDX(J) index line needs it."""

    record_id: int
    surt: str
    capture_time: datetime
    target_uri: str | None
    record_type: str
    mime: str | None
    http_status: int | None
    payload_digest: str | None
    payload_sha256: str | None
    length: int
    offset: int
    file_location: str
    label: str | None
    evidence_kind: str | None


def index_rows(catalog: Catalog, labels: Sequence[str] | None = None) -> Iterator[IndexRow]:
    """Every dated capture with a SURT key, sorted by (SURT, capture time, id), streamed.

    ``labels`` keeps only captures with one of those labels. Rows come from a server-side
    cursor on PostgreSQL and a stepped cursor on SQLite: memory stays flat.
    """
    statement = (
        select(
            Record.id,
            Record.surt,
            Record.capture_time,
            Record.target_uri,
            Record.record_type,
            Record.mime,
            Record.http_status,
            Record.payload_digest,
            Record.payload_sha256,
            Record.length,
            Record.offset,
            WarcFile.location,
            Record.label,
            Record.evidence_kind,
        )
        .join(WarcFile, Record.file_id == WarcFile.id)
        .where(
            Record.is_capture == true(),
            Record.surt.is_not(None),
            Record.capture_time.is_not(None),
        )
        .order_by(Record.surt, Record.capture_time, Record.id)
        .execution_options(yield_per=1000)
    )
    if labels:
        statement = statement.where(Record.label.in_(list(labels)))
    with catalog.engine.connect() as connection:
        for row in connection.execute(statement):
            yield IndexRow._make(row)


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
    # Labels are for this cutoff (see `relabel_catalog`).
    cutoff: Cutoff
    captures_by_label: dict[str, int]
    captures_by_evidence: dict[str, int]
    # Revisits whose original is not in the catalog (yet): unverified until it arrives.
    dangling_revisits: int
    # Revisits whose chain of originals loops back on itself: unverified for good.
    revisit_loops: int = 0


def _in_order(counts: dict[str, int], order: Sequence[str]) -> dict[str, int]:
    """``counts`` with the keys of ``order`` first, in that order, then any others."""
    known = {k: counts[k] for k in order if k in counts}
    return known | {k: v for k, v in counts.items() if k not in known}


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
        labels = label_counts(connection)
        dangling = connection.execute(
            select(func.count()).where(
                Record.record_type == "revisit", Record.original_record_id.is_(None)
            )
        ).scalar_one()
        cutoff = _cutoff_in(connection)
        loops = len(revisit_loops(connection))
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
        cutoff=cutoff,
        captures_by_label=_in_order(labels.by_label, LABELS),
        captures_by_evidence=_in_order(labels.by_kind, KINDS),
        dangling_revisits=int(dangling),
        revisit_loops=loops,
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
                {
                    "rid": r.record_id,
                    "sha": r.text_sha256,
                    "status": r.status,
                    "extractor": EXTRACTOR,
                }
                for r in results
            ],
        )
        if any(r.text_sha256 for r in results):
            _serialise_labelling(connection)
            relabel(connection, _cutoff_in(connection), affected_by_texts_of(connection, file_id))


# -- exports -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportSelection:
    """Which captures an export considers: the filters the catalog can apply by itself."""

    labels: tuple[str, ...]
    mimes: tuple[str, ...]
    # SURT keys or key prefixes (hosts, domains); empty selects every URL.
    surt_prefixes: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None


class ExportSource(NamedTuple):
    """A capture as an export row needs it: where its bytes are, its label and its evidence."""

    record_id: int
    file_id: int
    offset: int
    length: int
    warc_record_id: str | None
    url: str | None
    capture_time: datetime | None
    label: str | None
    evidence_kind: str | None
    payload_sha256: str | None
    text_sha256: str | None
    mime: str | None
    file_location: str
    file_sha256: str
    file_compression: str | None
    file_size: int
    evidence_id: int | None
    evidence_warc_record_id: str | None
    evidence_url: str | None
    evidence_capture_time: datetime | None
    evidence_file_location: str | None
    evidence_file_sha256: str | None
    evidence_offset: int | None
    # Captures of this text among the selected ones, and in the whole catalog (revisits of
    # them included).
    selected_with_text: int
    captures_with_text: int


def _export_scope(selection: ExportSelection) -> list[Any]:
    """SQL conditions of a selection, revisits included (they are counted, never exported)."""
    where: list[Any] = [
        Record.is_capture == true(),
        Record.label.in_(list(selection.labels)),
        Record.mime.in_(list(selection.mimes)),
    ]
    if selection.surt_prefixes:
        where.append(_surt_condition(selection.surt_prefixes, exact=False))
    if selection.since is not None:
        where.append(Record.capture_time >= selection.since)
    if selection.until is not None:
        where.append(Record.capture_time < selection.until)
    return where


def _export_columns(basis: Any, basis_file: Any) -> tuple[Any, ...]:
    return (
        Record.id,
        Record.file_id,
        Record.offset,
        Record.length,
        Record.warc_record_id,
        Record.target_uri,
        Record.capture_time,
        Record.label,
        Record.evidence_kind,
        Record.payload_sha256,
        Record.text_sha256,
        Record.mime,
        WarcFile.location,
        WarcFile.sha256,
        WarcFile.compression,
        WarcFile.size,
        basis.id,
        basis.warc_record_id,
        basis.target_uri,
        basis.capture_time,
        basis_file.location,
        basis_file.sha256,
        basis.offset,
    )


def export_text_statuses(catalog: Catalog, selection: ExportSelection) -> dict[str, int]:
    """Selected captures by what their text is: ``ok``, ``empty``, ``error``, ``too-large``,
    ``revisit`` (no payload of its own), ``damaged``, ``no-payload``, or ``pending`` (the text
    stage has not read it).
    """
    status = case(
        (Record.record_type == "revisit", "revisit"),
        (Record.text_status.is_not(None), Record.text_status),
        (Record.damaged == true(), "damaged"),
        (func.coalesce(Record.payload_length, 0) == 0, "no-payload"),
        else_="pending",
    )
    with catalog.engine.connect() as connection:
        rows = connection.execute(
            select(status, func.count()).where(*_export_scope(selection)).group_by(status)
        )
        return {str(k): int(n) for k, n in sorted(rows)}


def _export_winners(selection: ExportSelection) -> Any:
    """Subquery: one row per text among the selected captures, the earliest verified first."""
    label_rank = case((Record.label == "pre", 0), (Record.label == "post", 1), else_=2)
    ranked = (
        select(
            Record.id.label("rid"),
            func.row_number()
            .over(
                partition_by=Record.text_sha256,
                order_by=(label_rank, Record.capture_time.asc().nulls_last(), Record.id),
            )
            .label("rn"),
            func.count().over(partition_by=Record.text_sha256).label("selected"),
        )
        .where(
            *_export_scope(selection),
            Record.record_type != "revisit",
            Record.text_status == "ok",
            Record.text_sha256.is_not(None),
        )
        .subquery("ranked")
    )
    return ranked


def count_export_documents(catalog: Catalog, selection: ExportSelection) -> int:
    """How many distinct texts the selection holds (documents before sampling and limits)."""
    statement = select(func.count(func.distinct(Record.text_sha256))).where(
        *_export_scope(selection),
        Record.record_type != "revisit",
        Record.text_status == "ok",
        Record.text_sha256.is_not(None),
    )
    with catalog.engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())


def export_sources(
    catalog: Catalog, selection: ExportSelection, *, after: tuple[int, int] | None = None
) -> Generator[ExportSource, None, None]:
    """The winning capture of each selected text, in (file, offset) order, streamed.

    The winner of a text is its earliest capture among the selected ones (``pre`` before
    ``post`` before ``unverified``, then capture time, then id). (file, offset) order lets an
    export read each WARC file once, front to back. ``after`` resumes past that position.
    """
    ranked = _export_winners(selection)
    basis, basis_file = aliased(Record), aliased(WarcFile)
    same_text, revisit, original = aliased(Record), aliased(Record), aliased(Record)
    # Captures of the text: those with its hash, and the revisits of those (which carry no
    # payload, so no text, of their own), whatever their labels and the export's filters.
    captures_with_text = (
        select(func.count())
        .where(same_text.text_sha256 == Record.text_sha256)
        .correlate(Record)
        .scalar_subquery()
    ) + (
        select(func.count())
        .select_from(revisit)
        .join(original, original.id == revisit.original_record_id)
        .where(revisit.record_type == "revisit", original.text_sha256 == Record.text_sha256)
        .correlate(Record)
        .scalar_subquery()
    )
    statement = (
        select(*_export_columns(basis, basis_file), ranked.c.selected, captures_with_text)
        .join(ranked, ranked.c.rid == Record.id)
        .join(WarcFile, WarcFile.id == Record.file_id)
        .outerjoin(basis, basis.id == Record.evidence_record_id)
        .outerjoin(basis_file, basis_file.id == basis.file_id)
        .where(ranked.c.rn == 1)
        .order_by(Record.file_id, Record.offset)
        .execution_options(yield_per=1000)
    )
    if after is not None:
        file_id, offset = after
        statement = statement.where(
            or_(Record.file_id > file_id, and_(Record.file_id == file_id, Record.offset > offset))
        )
    with catalog.engine.connect() as connection:
        for row in connection.execute(statement):
            yield ExportSource._make(row)


def sources_at(
    catalog: Catalog, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], ExportSource]:
    """The captures at these (WARC file SHA-256, offset) places, as `export_sources` gives
    them (without the text counts), in one query; places the catalog lacks are left out.
    """
    wanted = set(keys)
    if not wanted:
        return {}
    basis, basis_file = aliased(Record), aliased(WarcFile)
    statement = (
        select(*_export_columns(basis, basis_file), literal(0), literal(0))
        .join(WarcFile, WarcFile.id == Record.file_id)
        .outerjoin(basis, basis.id == Record.evidence_record_id)
        .outerjoin(basis_file, basis_file.id == basis.file_id)
        .where(
            WarcFile.sha256.in_(sorted({sha for sha, _ in wanted})),
            Record.offset.in_(sorted({offset for _, offset in wanted})),
        )
    )
    with catalog.engine.connect() as connection:
        found = (ExportSource._make(row) for row in connection.execute(statement))
        return {(s.file_sha256, s.offset): s for s in found if (s.file_sha256, s.offset) in wanted}


@dataclass(frozen=True)
class CatalogIdentity:
    """What an export records of the catalog it came from.

    ``fingerprint`` changes whenever files are added, captures relabelled or texts extracted:
    counts and id sums by label, evidence kind and text status, and the cutoff.
    """

    backend: str
    url: str
    schema_revision: str | None
    files: int
    records: int
    fingerprint: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def catalog_identity(catalog: Catalog) -> CatalogIdentity:
    """The catalog's backend, URL (no password), schema revision, size and fingerprint."""
    groups = (Record.label, Record.evidence_kind, Record.text_status)
    with catalog.engine.connect() as connection:
        files = connection.execute(
            select(WarcFile.status, func.count(), func.coalesce(func.sum(WarcFile.id), 0))
            .group_by(WarcFile.status)
            .order_by(WarcFile.status)
        ).all()
        states = connection.execute(
            select(
                *groups,
                func.count(),
                func.coalesce(func.sum(Record.id), 0),
                func.coalesce(func.sum(Record.evidence_record_id), 0),
            )
            .group_by(*groups)
            .order_by(*(g.asc().nulls_first() for g in groups))
        ).all()
        cutoff = _cutoff_in(connection)
    state = {
        "cutoff": cutoff.to_dict(),
        "files": [[str(s), int(n), int(i)] for s, n, i in files],
        "records": [[k1, k2, k3, int(n), int(a), int(b or 0)] for k1, k2, k3, n, a, b in states],
    }
    digest = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()
    return CatalogIdentity(
        backend=catalog.engine.dialect.name,
        url=catalog.url,
        schema_revision=catalog.current_revision(),
        files=sum(int(n) for _, n, _ in files),
        records=sum(int(n) for _, _, _, n, _, _ in states),
        fingerprint=digest,
    )


@dataclass(frozen=True)
class ExportRef:
    """A registered export: where it was written and what identifies its manifest."""

    id: int
    created_at: datetime
    out_dir: str
    manifest_sha256: str
    cutoff: str
    rows: int
    shards: int

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["created_at"] = format_utc(self.created_at)
        return data


def register_export(
    catalog: Catalog,
    *,
    out_dir: str,
    arguments: dict[str, Any],
    arguments_sha256: str,
    manifest_sha256: str,
    cutoff: str,
    rows: int,
    shards: int,
    archivist_version: str,
    record_ids: Iterable[int],
) -> ExportRef:
    """Remember an export and the records that went into it; it replaces any earlier export
    registered for the same ``out_dir`` (whose files it overwrote).
    """
    created_at = datetime.now(UTC)
    with catalog.engine.begin() as connection:
        connection.execute(delete(Export).where(Export.out_dir == out_dir))
        export_id = connection.execute(
            insert(Export)
            .values(
                created_at=created_at,
                out_dir=out_dir,
                arguments=json.dumps(arguments, sort_keys=True),
                arguments_sha256=arguments_sha256,
                manifest_sha256=manifest_sha256,
                cutoff=cutoff,
                rows=rows,
                shards=shards,
                archivist_version=archivist_version,
            )
            .returning(Export.id)
        ).scalar_one()
        batch: list[dict[str, int]] = []
        for record_id in record_ids:
            batch.append({"export_id": export_id, "record_id": record_id})
            if len(batch) >= 5000:
                connection.execute(insert(ExportRecord), batch)
                batch = []
        if batch:
            connection.execute(insert(ExportRecord), batch)
    return ExportRef(export_id, created_at, out_dir, manifest_sha256, cutoff, rows, shards)


_EXPORT_REF = (
    Export.id,
    Export.created_at,
    Export.out_dir,
    Export.manifest_sha256,
    Export.cutoff,
    Export.rows,
    Export.shards,
)


def export_by_manifest(catalog: Catalog, manifest_sha256: str) -> list[ExportRef]:
    """Registered exports whose manifest has this SHA-256, oldest first."""
    statement = select(*_EXPORT_REF).where(Export.manifest_sha256 == manifest_sha256)
    with catalog.engine.connect() as connection:
        return [ExportRef(*row) for row in connection.execute(statement.order_by(Export.id))]


def exports_of_record(catalog: Catalog, record_id: int) -> list[ExportRef]:
    """The registered exports that hold record ``record_id`` as a row, oldest first."""
    statement = (
        select(*_EXPORT_REF)
        .join(ExportRecord, ExportRecord.export_id == Export.id)
        .where(ExportRecord.record_id == record_id)
        .order_by(Export.id)
    )
    with catalog.engine.connect() as connection:
        return [ExportRef(*row) for row in connection.execute(statement)]
