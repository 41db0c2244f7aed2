"""Where declared digests (WARC-Block-Digest, WARC-Payload-Digest) are parsed and verified."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# Digest sizes in bytes (RFC 1321, FIPS 180-4). They decide which text encodings of a value fit.
_DIGEST_SIZES: dict[str, int] = {
    "md5": 16,
    "sha1": 20,
    "sha224": 28,
    "sha256": 32,
    "sha384": 48,
    "sha512": 64,
}
# The named constructors: hashlib.new() looks the name up on every call, once per record here.
_HASHERS: dict[str, Callable[..., Any]] = {
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
    "sha224": hashlib.sha224,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
_HEX = re.compile(r"[0-9A-Fa-f]+", re.ASCII)
_BASE32 = re.compile(r"[A-Za-z2-7]+=*", re.ASCII)
_BASE32_AS_INT = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghijklmnopqrstuv"
)
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+=*", re.ASCII)


class DigestStatus(StrEnum):
    """The verdict on one declared digest."""

    OK = "ok"
    MISMATCH = "mismatch"
    ABSENT = "absent"
    UNSUPPORTED = "unsupported"
    # Set by callers, never by verify_digest: a revisit's WARC-Payload-Digest names the
    # original payload, not its own body (WARC 1.1 §6.7.2).
    NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True)
class DeclaredDigest:
    """A digest as declared in a header, with its algorithm and bytes when they can be read."""

    raw: str
    algorithm: str | None
    value: bytes | None

    @property
    def supported(self) -> bool:
        """Whether both the algorithm and the value are known, so the digest can be checked."""
        return self.algorithm is not None and self.value is not None


def parse_declared_digest(raw: str | None) -> DeclaredDigest | None:
    """Parse an ``algorithm:value`` digest (WARC 1.1 §5.8, §5.9); None when nothing is declared."""
    if raw is None or not raw.strip():
        return None
    label, sep, encoded = raw.strip().partition(":")
    # A bare value is not guessed at from its length: without a label it cannot be verified.
    algorithm = _canonical_algorithm(label) if sep else None
    if algorithm is None:
        return DeclaredDigest(raw, None, None)
    return DeclaredDigest(raw, algorithm, _decode_value(encoded.strip(), _DIGEST_SIZES[algorithm]))


def verify_digest(declared: DeclaredDigest | None, computed: Mapping[str, bytes]) -> DigestStatus:
    """Compare a declared digest with digests computed over the same bytes."""
    if declared is None:
        return DigestStatus.ABSENT
    if declared.algorithm is None or declared.value is None:
        return DigestStatus.UNSUPPORTED
    actual = computed.get(declared.algorithm)
    if actual is None:
        return DigestStatus.UNSUPPORTED
    return DigestStatus.OK if actual == declared.value else DigestStatus.MISMATCH


class MultiHasher:
    """Feeds the same bytes to several hashlib hashers, streaming: update() may be called often."""

    def __init__(self, algorithms: Iterable[str]) -> None:
        names: set[str] = set()
        for label in algorithms:
            name = label if label in _HASHERS else _canonical_algorithm(label)
            if name is not None:
                names.add(name)
        # usedforsecurity=False: these digests check integrity, and it keeps md5/sha1 usable on
        # FIPS-mode Pythons, where hashlib otherwise refuses them.
        self._hashers = tuple(
            (name, _HASHERS[name](usedforsecurity=False)) for name in sorted(names)
        )

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Feed ``data`` to every hasher; the buffer is handed over as is, never copied."""
        for _, hasher in self._hashers:
            hasher.update(data)

    def digests(self) -> dict[str, bytes]:
        """The raw digest of everything fed so far, by algorithm; update() may continue after."""
        return {name: hasher.digest() for name, hasher in self._hashers}


def declared_algorithms(*declared: DeclaredDigest | None) -> set[str]:
    """The algorithms needed to check every checkable declared digest."""
    return {
        digest.algorithm
        for digest in declared
        if digest is not None and digest.supported and digest.algorithm is not None
    }


def algorithms_needed(*declared: DeclaredDigest | None) -> set[str]:
    """The algorithms to compute: sha256 (the catalog's key) and every checkable declared one."""
    return {"sha256"} | declared_algorithms(*declared)


def encode_digest(algorithm: str, value: bytes) -> str:
    """The canonical text of a digest: ``sha1:`` + base32 for SHA-1, lower-case hex otherwise."""
    name = _canonical_algorithm(algorithm)
    if name is None:
        raise ValueError(f"unknown digest algorithm {algorithm!r}")
    if len(value) != _DIGEST_SIZES[name]:
        raise ValueError(f"a {name} digest has {_DIGEST_SIZES[name]} bytes, not {len(value)}")
    if name == "sha1":
        # Base32 SHA-1 is what Heritrix, wget and warcio write, and what CDX files index.
        return f"sha1:{base64.b32encode(value).decode('ascii')}"
    return f"{name}:{value.hex()}"


def _canonical_algorithm(label: str) -> str | None:
    """The hashlib name for a digest label ("SHA-256", "sha_1", "SHA1"), or None if unknown."""
    name = label.strip().lower().replace("-", "").replace("_", "")
    return name if name in _DIGEST_SIZES else None


def _decode_value(text: str, size: int) -> bytes | None:
    """Decode a digest value as hex, then base32, then base64: the first of ``size`` bytes wins."""
    decoders: tuple[Callable[[str, int], bytes | None], ...] = (
        _from_hex,
        _from_base32,
        _from_base64,
    )
    for decode in decoders:
        value = decode(text, size)
        if value is not None and len(value) == size:
            return value
    return None


def _from_hex(text: str, size: int) -> bytes | None:
    if len(text) != 2 * size or not _HEX.fullmatch(text):
        return None
    return bytes.fromhex(text)


def _from_base32(text: str, size: int) -> bytes | None:
    unpadded = text.rstrip("=")
    # Padding is often dropped (or miscounted), so the unpadded length is what must fit.
    if len(unpadded) != -(-size * 8 // 5) or not _BASE32.fullmatch(text):
        return None
    # base64.b32decode is pure Python and was the costliest step of parsing a digest header; the
    # regex above admits only the RFC 4648 alphabet, so mapping it onto int()'s base-32 digits
    # is total. Bits past the last whole byte are ignored, as b32decode ignores them.
    number = int(unpadded.upper().translate(_BASE32_AS_INT), 32)
    spare = len(unpadded) * 5 - size * 8
    return (number >> spare).to_bytes(size, "big")


def _from_base64(text: str, size: int) -> bytes | None:
    unpadded = text.rstrip("=")
    if len(unpadded) != -(-size * 4 // 3) or not _BASE64.fullmatch(text):
        return None
    # The URL-safe alphabet ("-", "_") is accepted too: its characters never clash with "+/".
    padded = unpadded.replace("-", "+").replace("_", "/") + "=" * (-len(unpadded) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except binascii.Error:
        return None
