"""The evidence ladder: which captures are `pre`, `post` or `unverified` for a cutoff, and why.

The ladder (strongest first) and what each rung requires:

1. ``captured``     the capture's own WARC-Date is before the cutoff and its bytes verify;
2. ``same-payload`` another verified capture of the identical payload (SHA-256) is before it;
3. ``revisit``      a revisit whose original (found by WARC-Refers-To, else target URI and
                    Refers-To-Date, else payload digest) is in the catalog and `pre`;
4. ``same-text``    another verified capture with the identical normalised text is before it;
5. ``claimed``      only HTTP Last-Modified says "before": reported, never `pre`.

Labels: ``pre`` (rungs 1-4), ``post`` (verified, captured at or after the cutoff, no evidence),
``unverified`` (a digest mismatch, a damaged record, no usable date, a dangling revisit, or
only a claim). A wrong `pre` poisons a human-era dataset while a wrong `post` only loses a
document, so every rule here errs towards not `pre`.

Labelling runs in the database as a handful of set-based UPDATE statements (never a Python
loop over rows), over the whole catalog (`relabel`) or over what one new file can affect.
This module and ``archive.catalog`` are the only ones that touch the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    case,
    column,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    select,
    table,
    text,
    true,
    update,
)
from sqlalchemy.orm import aliased

from archive.cutoffs import Cutoff
from archive.models import Record

KINDS = ("captured", "same-payload", "revisit", "same-text", "claimed", "none")
LABELS = ("pre", "post", "unverified")
# Chains of revisits longer than this are not followed; their tail stays unverified.
MAX_REVISIT_DEPTH = 16


@dataclass(frozen=True)
class RelabelResult:
    """How many captures a relabel touched, and how they are labelled now."""

    captures: int
    by_label: dict[str, int]
    by_kind: dict[str, int]


def intact(record: Any = Record) -> Any:
    """SQL: the record's own bytes verify (no digest mismatch, not cut short)."""
    return and_(
        record.damaged == false(),
        record.block_digest_status != "mismatch",
        record.payload_digest_status != "mismatch",
    )


def dated_capture(record: Any = Record) -> Any:
    """SQL: an intact capture whose WARC-Date is usable as evidence of when it was on the web."""
    return and_(
        record.is_capture == true(),
        record.date_trusted == true(),
        record.capture_time.is_not(None),
        intact(record),
    )


def unresolved_revisit(record: Any = Record) -> Any:
    """SQL: a revisit whose original is not known (yet).

    The NULL test is on ``original_record_id + 0``, never the bare column: the bare test lets
    the planner pick ix_records_original_record_id, in which nearly every row of a catalog
    (every record that is no revisit) is NULL, over the selective condition beside it.
    """
    return and_(record.record_type == "revisit", (record.original_record_id + 0).is_(None))


def relabel(connection: Connection, cutoff: Cutoff, scope: Any | None = None) -> int:
    """Recompute label and evidence of the captures selected by ``scope`` (all when None).

    Returns the number of captures labelled. Runs inside the caller's transaction.
    """
    before = cutoff.instant
    in_scope = [Record.is_capture == true()]
    if scope is not None:
        in_scope.append(scope)
    resolve_revisits(connection, scope)

    # Rung 1, and the default for everything else.
    own_pre = and_(dated_capture(), Record.record_type != "revisit", Record.capture_time < before)
    own_post = and_(dated_capture(), Record.record_type != "revisit")
    result = connection.execute(
        update(Record)
        .where(*in_scope)
        .values(
            label=case((own_pre, "pre"), (own_post, "post"), else_="unverified"),
            evidence_kind=case((own_pre, "captured"), else_="none"),
            evidence_record_id=case((own_pre, Record.id), else_=None),
        )
        .execution_options(synchronize_session=False)
    )
    labelled = result.rowcount

    # Rung 2: an earlier verified capture of the same non-empty payload.
    _promote(
        connection,
        in_scope,
        and_(Record.payload_sha256.is_not(None), Record.payload_length > 0, intact()),
        _earliest_verified_with_same("payload_sha256", before),
        "same-payload",
    )

    # Rung 4: an earlier verified capture with the same normalised text.
    _promote(
        connection,
        in_scope,
        and_(Record.text_sha256.is_not(None), intact()),
        _earliest_verified_with_same("text_sha256", before),
        "same-text",
    )

    # Rung 3 last: a revisit takes its original's final verdict (after rungs 2 and 4 have
    # promoted the original), following chains.
    _label_revisits(connection, in_scope)

    # Rung 5: only the server's word. Reported as a claim, labelled unverified.
    connection.execute(
        update(Record)
        .where(*in_scope, Record.label != "pre", Record.last_modified < before)
        .values(label="unverified", evidence_kind="claimed", evidence_record_id=Record.id)
        .execution_options(synchronize_session=False)
    )
    return int(labelled)


def _earliest_verified_with_same(column: str, before: Any) -> Any:
    """SQL: the id of the earliest verified capture before ``before`` sharing ``column``."""
    other = aliased(Record)
    return (
        select(other.id)
        .where(
            getattr(other, column) == getattr(Record, column),
            dated_capture(other),
            other.record_type != "revisit",
            other.capture_time < before,
        )
        .order_by(other.capture_time, other.id)
        .limit(1)
        .scalar_subquery()
    )


def _promote(
    connection: Connection, in_scope: list[Any], eligible: Any, basis: Any, kind: str
) -> None:
    """Make eligible non-`pre` captures `pre` when ``basis`` (a record id subquery) exists."""
    connection.execute(
        update(Record)
        .where(
            *in_scope,
            Record.label != "pre",
            Record.record_type != "revisit",
            eligible,
            basis.is_not(None),
        )
        .values(label="pre", evidence_kind=kind, evidence_record_id=basis)
        .execution_options(synchronize_session=False)
    )


def resolve_revisits(connection: Connection, scope: Any | None = None) -> None:
    """Find the original of each unresolved revisit (WARC 1.1 §6.7), in order of reliability.

    By WARC-Refers-To (a record id), else by target URI and WARC-Refers-To-Date, else by the
    declared payload digest, which names the original's payload (identical-payload-digest
    profile). An original is never a revisit's own record.
    """
    original = aliased(Record)
    unresolved = [unresolved_revisit()]
    if scope is not None:
        unresolved.append(scope)
    strategies = (
        and_(original.warc_record_id == Record.refers_to, Record.refers_to.is_not(None)),
        and_(
            Record.refers_to_surt.is_not(None),
            original.surt == Record.refers_to_surt,
            original.capture_time == Record.refers_to_date,
        ),
        and_(
            Record.payload_digest_key.is_not(None),
            original.payload_digest_key == Record.payload_digest_key,
            original.record_type != "revisit",
            original.surt == Record.surt,
        ),
    )
    for condition in strategies:
        candidate = (
            select(original.id)
            .where(condition, original.id != Record.id, original.is_capture == true())
            .order_by(original.capture_time, original.id)
            .limit(1)
            .scalar_subquery()
        )
        connection.execute(
            update(Record)
            .where(*unresolved)
            .values(original_record_id=candidate)
            .execution_options(synchronize_session=False)
        )


def _label_revisits(connection: Connection, in_scope: list[Any]) -> None:
    """Give each resolved, intact revisit its original's verdict, following chains.

    `pre` propagates first, then `post`; a revisit whose original is unverified, missing or
    part of a loop keeps `unverified`.
    """
    original = aliased(Record)
    for verdict, kind in (("pre", "revisit"), ("post", "none")):
        basis: Any = (
            select(original.evidence_record_id)
            .where(original.id == Record.original_record_id)
            .scalar_subquery()
            if verdict == "pre"
            else None
        )
        for _ in range(MAX_REVISIT_DEPTH):
            changed = connection.execute(
                update(Record)
                .where(
                    *in_scope,
                    Record.record_type == "revisit",
                    Record.label == "unverified",
                    intact(),
                    exists(
                        select(original.id).where(
                            original.id == Record.original_record_id, original.label == verdict
                        )
                    ),
                )
                .values(label=verdict, evidence_kind=kind, evidence_record_id=basis)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not changed:
                break


def affected_by_file(connection: Connection, file_id: int) -> Any:
    """SQL: the captures whose evidence a newly recorded file can change, gathered by index.

    Its own records; records sharing a payload or a text with them; earlier revisits whose
    original the file may hold (by WARC-Refers-To, by target URI and date, or by payload
    digest); and the revisits of any of those, following chains. Runs in the caller's
    transaction, before `relabel`.
    """
    new = aliased(Record)

    def of_file(column: Any) -> Any:
        return select(column).where(new.file_id == file_id, column.is_not(None))

    return _gather_affected(
        connection,
        [
            select(Record.id).where(Record.file_id == file_id),
            # Empty payloads are never same-payload evidence, and would match every request.
            select(Record.id).where(
                Record.is_capture == true(),
                Record.payload_sha256.in_(
                    of_file(new.payload_sha256).where(new.payload_length > 0)
                ),
            ),
            select(Record.id).where(
                Record.is_capture == true(), Record.text_sha256.in_(of_file(new.text_sha256))
            ),
            select(Record.id).where(
                unresolved_revisit(),
                Record.refers_to.is_not(None),
                Record.refers_to.in_(of_file(new.warc_record_id)),
            ),
            select(Record.id).where(
                unresolved_revisit(),
                Record.refers_to_surt.is_not(None),
                Record.refers_to_surt.in_(of_file(new.surt)),
            ),
            select(Record.id).where(
                unresolved_revisit(),
                Record.payload_digest_key.in_(of_file(new.payload_digest_key)),
            ),
        ],
    )


def affected_by_texts_of(connection: Connection, file_id: int) -> Any:
    """SQL: the captures whose evidence can change once a file's text hashes are known.

    Captures sharing a text with the file's captures, and the revisits of those (chains).
    """
    new = aliased(Record)
    texts = select(new.text_sha256).where(new.file_id == file_id, new.text_sha256.is_not(None))
    return _gather_affected(connection, [select(Record.id).where(Record.text_sha256.in_(texts))])


# A per-connection scratch table (TEMPORARY: never part of the catalog's schema, which only
# migrations change) holding the ids a change can affect. Gathering them with one indexed
# query per reason, then relabelling `id IN (...)`, keeps labelling a file proportional to
# what the file touches; a single WHERE with an OR of the reasons made both SQLite and
# PostgreSQL scan the whole records table for every file.
_AFFECTED = table("archivist_affected", column("id"), column("depth"))


def _gather_affected(connection: Connection, reasons: list[Any]) -> Any:
    connection.execute(
        text(
            "CREATE TEMPORARY TABLE IF NOT EXISTS archivist_affected"
            " (id BIGINT PRIMARY KEY, depth INTEGER NOT NULL)"
        )
    )
    connection.execute(delete(_AFFECTED))
    gathered = select(_AFFECTED.c.id)
    # NOT EXISTS, not NOT IN: PostgreSQL turns NOT IN (subquery) into a filter over a scan of
    # `records` (its NULL semantics forbid an anti-join), 250 ms per statement at 1M records.
    new_here = ~exists(select(_AFFECTED.c.id).where(_AFFECTED.c.id == Record.id))
    for reason in reasons:
        connection.execute(
            insert(_AFFECTED).from_select(
                ["id", "depth"],
                reason.add_columns(literal(0)).where(new_here),
            )
        )
    _analyse(connection)
    # Revisits of anything gathered, then revisits of those: the chains a verdict travels.
    # Each round looks only at what the previous round added.
    for depth in range(1, MAX_REVISIT_DEPTH + 1):
        frontier = select(_AFFECTED.c.id).where(_AFFECTED.c.depth == depth - 1)
        added = connection.execute(
            insert(_AFFECTED).from_select(
                ["id", "depth"],
                select(Record.id, literal(depth)).where(
                    Record.record_type == "revisit",
                    Record.original_record_id.in_(frontier),
                    new_here,
                ),
            )
        ).rowcount
        if not added:
            break
    _analyse(connection)
    return Record.id.in_(gathered)


def _analyse(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Temporary tables get no statistics from autovacuum; without them the planner guesses
        # their size, and may scan `records` rather than probe its indexes once per id.
        connection.execute(text("ANALYZE archivist_affected"))


def revisit_loops(connection: Connection) -> set[int]:
    """Ids of revisits whose chain of originals never reaches a non-revisit (a loop).

    Only revisit-to-revisit links are read, a small set in any real crawl.
    """
    original = aliased(Record)
    links = dict(
        connection.execute(
            select(Record.id, Record.original_record_id)
            .join(original, original.id == Record.original_record_id)
            .where(Record.record_type == "revisit", original.record_type == "revisit")
        ).all()
    )
    looping: set[int] = set()
    settled: set[int] = set()
    for start in links:
        path: list[int] = []
        node: int | None = start
        while node is not None and node not in settled and node not in path:
            path.append(node)
            node = links.get(node)
        if node is not None and (node in looping or node in path):
            looping.update(path)
        settled.update(path)
    return looping


def label_counts(connection: Connection, scope: Any | None = None) -> RelabelResult:
    """Counts of labels and evidence kinds over the captures in ``scope``."""
    where = [Record.is_capture == true()]
    if scope is not None:
        where.append(scope)
    # One pass over the captures for both counts: each is a scan of the table at scale.
    by_label: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    pairs = select(Record.label, Record.evidence_kind, func.count()).where(*where)
    for label, kind, count in connection.execute(
        pairs.group_by(Record.label, Record.evidence_kind)
    ):
        by_label[str(label)] = by_label.get(str(label), 0) + int(count)
        by_kind[str(kind)] = by_kind.get(str(kind), 0) + int(count)
    return RelabelResult(sum(by_label.values()), by_label, by_kind)
