"""archivist: a pre-AI corpus archive and provenance registry built on WARC files."""

__version__ = "0.1.0"
