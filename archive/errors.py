"""The one exception hierarchy of archivist: catch ArchiveError broadly, or a subclass narrowly."""

from __future__ import annotations


class ArchiveError(Exception):
    """Base of every error archivist raises on purpose."""


class SourceError(ArchiveError):
    """An input (a path or URL given by the user) cannot be read as asked."""


class WarcFormatError(ArchiveError):
    """A problem inside a WARC/ARC file, located by file and byte offset."""

    def __init__(self, file: str, offset: int | None, reason: str) -> None:
        self.file = file
        self.offset = offset
        self.reason = reason
        where = f"{file}" if offset is None else f"{file} @ {offset}"
        super().__init__(f"{where}: {reason}")


class CatalogError(ArchiveError):
    """The catalog cannot be opened, is too new for this version, or refused a change."""


class RecordNotFound(ArchiveError):
    """No record in the catalog has the identifier the user gave."""


class SourceChangedError(ArchiveError):
    """A WARC file no longer holds the bytes the catalog recorded for it."""
