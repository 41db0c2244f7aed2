"""Tests for archive.digests: declared digests are parsed in every real-world form and verified."""

from __future__ import annotations

import base64
import hashlib
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.digests import (
    DeclaredDigest,
    DigestStatus,
    MultiHasher,
    algorithms_needed,
    encode_digest,
    parse_declared_digest,
    verify_digest,
)

ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
BLOCK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello, archive\n"


def digest_of(algorithm: str, data: bytes = BLOCK) -> bytes:
    return hashlib.new(algorithm, data).digest()


def encodings(value: bytes) -> dict[str, str]:
    """Every text form a crawler has been seen to write for ``value``."""
    b32 = base64.b32encode(value).decode()
    b64 = base64.b64encode(value).decode()
    return {
        "hex": value.hex(),
        "HEX": value.hex().upper(),
        "base32": b32,
        "base32-unpadded": b32.rstrip("="),
        "base32-lower": b32.lower(),
        "base32-lower-unpadded": b32.lower().rstrip("="),
        "base64": b64,
        "base64-unpadded": b64.rstrip("="),
        "base64-urlsafe": base64.urlsafe_b64encode(value).decode(),
    }


# --- parse_declared_digest -------------------------------------------------------------------


def test_sha1_base32_the_common_form() -> None:
    value = digest_of("sha1")
    raw = "sha1:" + base64.b32encode(value).decode()
    assert len(raw) == len("sha1:") + 32
    assert parse_declared_digest(raw) == DeclaredDigest(raw, "sha1", value)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    "form",
    [
        "hex",
        "HEX",
        "base32",
        "base32-unpadded",
        "base32-lower",
        "base32-lower-unpadded",
        "base64",
        "base64-unpadded",
        "base64-urlsafe",
    ],
)
def test_every_encoding_of_every_algorithm(algorithm: str, form: str) -> None:
    value = digest_of(algorithm)
    raw = f"{algorithm}:{encodings(value)[form]}"
    declared = parse_declared_digest(raw)
    assert declared == DeclaredDigest(raw, algorithm, value)
    assert declared is not None
    assert declared.supported


def test_mixed_case_hex() -> None:
    hexed = digest_of("sha256").hex()
    mixed = "".join(c.upper() if i % 2 else c for i, c in enumerate(hexed))
    declared = parse_declared_digest("sha256:" + mixed)
    assert declared is not None
    assert declared.value == digest_of("sha256")


@pytest.mark.parametrize(
    ("label", "algorithm"),
    [
        ("sha1", "sha1"),
        ("SHA1", "sha1"),
        ("SHA-1", "sha1"),
        ("sha_1", "sha1"),
        ("Sha-1", "sha1"),
        ("sha256", "sha256"),
        ("sha-256", "sha256"),
        ("SHA-256", "sha256"),
        ("SHA_256", "sha256"),
        ("md5", "md5"),
        ("MD5", "md5"),
        ("sha-512", "sha512"),
        ("sha384", "sha384"),
        ("SHA-224", "sha224"),
    ],
)
def test_algorithm_labels_are_normalised(label: str, algorithm: str) -> None:
    value = digest_of(algorithm)
    declared = parse_declared_digest(f"{label}:{value.hex()}")
    assert declared is not None
    assert declared.algorithm == algorithm
    assert declared.value == value


def test_surrounding_whitespace_is_ignored_and_raw_kept() -> None:
    value = digest_of("sha1")
    raw = f"  sha1 : {base64.b32encode(value).decode()}\t"
    assert parse_declared_digest(raw) == DeclaredDigest(raw, "sha1", value)


@pytest.mark.parametrize("raw", [None, "", " ", "\t\r\n"])
def test_nothing_declared_is_none(raw: str | None) -> None:
    assert parse_declared_digest(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "crc32:abcd",
        "sha3-256:" + hashlib.sha3_256(BLOCK).hexdigest(),
        "blake2b:" + hashlib.blake2b(BLOCK).hexdigest(),
        "sha:" + hashlib.sha1(BLOCK).hexdigest(),
        ":" + hashlib.sha1(BLOCK).hexdigest(),
        # No label: a 40-hex value is not guessed to be SHA-1.
        hashlib.sha1(BLOCK).hexdigest(),
        base64.b32encode(hashlib.sha1(BLOCK).digest()).decode(),
    ],
)
def test_unknown_or_missing_algorithm_is_unsupported(raw: str) -> None:
    declared = parse_declared_digest(raw)
    assert declared == DeclaredDigest(raw, None, None)
    assert declared is not None
    assert not declared.supported
    assert verify_digest(declared, MultiHasher(ALGORITHMS).digests()) is DigestStatus.UNSUPPORTED


@pytest.mark.parametrize(
    "raw",
    [
        "sha1:xyz",
        "sha1:",
        "sha1:   ",
        "sha256:not a digest at all",
        # Right algorithm, wrong length: a SHA-256 value under a sha1 label and vice versa.
        "sha1:" + hashlib.sha256(BLOCK).hexdigest(),
        "sha256:" + hashlib.sha1(BLOCK).hexdigest(),
        "sha1:" + base64.b32encode(hashlib.sha256(BLOCK).digest()).decode(),
        # One character short or long.
        "sha1:" + hashlib.sha1(BLOCK).hexdigest()[:-1],
        "sha1:" + hashlib.sha1(BLOCK).hexdigest() + "0",
        "sha1:" + base64.b32encode(hashlib.sha1(BLOCK).digest()).decode()[:-1],
        # Characters outside the alphabet of every encoding of that length.
        "sha1:" + "g" * 40,
        "sha1:" + "1" * 32,  # base32 has no 0, 1, 8 or 9
        "sha256:" + "!" * 43,
        "sha1:" + hashlib.sha1(BLOCK).hexdigest()[:20] + " " + hashlib.sha1(BLOCK).hexdigest()[20:],
        "sha1:sha1:" + base64.b32encode(hashlib.sha1(BLOCK).digest()).decode(),
    ],
)
def test_undecodable_value_is_unsupported(raw: str) -> None:
    declared = parse_declared_digest(raw)
    assert declared is not None
    assert declared.raw == raw
    assert declared.algorithm is not None
    assert declared.value is None
    assert not declared.supported
    assert verify_digest(declared, MultiHasher(ALGORITHMS).digests()) is DigestStatus.UNSUPPORTED


def test_declared_digest_is_frozen() -> None:
    declared = parse_declared_digest("sha1:" + hashlib.sha1(BLOCK).hexdigest())
    assert declared is not None
    with pytest.raises(AttributeError):
        declared.algorithm = "md5"  # type: ignore[misc]


# --- verify_digest ---------------------------------------------------------------------------


def test_verify_ok_mismatch_absent_unsupported() -> None:
    computed = {"sha1": digest_of("sha1"), "sha256": digest_of("sha256")}
    good = parse_declared_digest("sha1:" + base64.b32encode(digest_of("sha1")).decode())
    other = digest_of("sha1", BLOCK + b"!")
    bad = parse_declared_digest("sha1:" + base64.b32encode(other).decode())
    md5 = parse_declared_digest("md5:" + digest_of("md5").hex())
    assert verify_digest(good, computed) is DigestStatus.OK
    assert verify_digest(bad, computed) is DigestStatus.MISMATCH
    assert verify_digest(None, computed) is DigestStatus.ABSENT
    # Well formed, but md5 was not computed: it cannot be checked.
    assert verify_digest(md5, computed) is DigestStatus.UNSUPPORTED
    assert verify_digest(good, {}) is DigestStatus.UNSUPPORTED


def test_verify_against_hand_built_declared_digest() -> None:
    declared = DeclaredDigest("x", "sha256", digest_of("sha256"))
    assert verify_digest(declared, {"sha256": digest_of("sha256")}) is DigestStatus.OK
    assert verify_digest(DeclaredDigest("x", "sha256", None), {}) is DigestStatus.UNSUPPORTED
    assert verify_digest(DeclaredDigest("x", None, b"\0" * 32), {}) is DigestStatus.UNSUPPORTED


def test_digest_status_values() -> None:
    assert [str(status) for status in DigestStatus] == [
        "ok",
        "mismatch",
        "absent",
        "unsupported",
        "not-applicable",
    ]
    assert DigestStatus("not-applicable") is DigestStatus.NOT_APPLICABLE
    assert f"{DigestStatus.OK}" == "ok"


# --- MultiHasher -----------------------------------------------------------------------------


def test_multihasher_matches_hashlib() -> None:
    hasher = MultiHasher(ALGORITHMS)
    hasher.update(BLOCK)
    assert hasher.digests() == {name: digest_of(name) for name in ALGORITHMS}


def test_multihasher_ignores_unknown_names_and_normalises_labels() -> None:
    hasher = MultiHasher(["SHA-1", "crc32", "", "sha_256", "sha1"])
    hasher.update(BLOCK)
    assert hasher.digests() == {"sha1": digest_of("sha1"), "sha256": digest_of("sha256")}


def test_multihasher_with_nothing_to_compute() -> None:
    hasher = MultiHasher([])
    hasher.update(BLOCK)
    assert hasher.digests() == {}


def test_multihasher_of_no_bytes_is_the_empty_digest() -> None:
    assert MultiHasher(["sha1"]).digests() == {"sha1": hashlib.sha1(b"").digest()}


def test_multihasher_streams_and_accepts_buffers() -> None:
    hasher = MultiHasher(["sha256"])
    view = memoryview(BLOCK)
    hasher.update(view[:10])
    assert hasher.digests() == {"sha256": digest_of("sha256", BLOCK[:10])}
    hasher.update(bytearray(BLOCK[10:20]))
    hasher.update(view[20:])
    assert hasher.digests() == {"sha256": digest_of("sha256")}


def test_multihasher_accepts_any_iterable() -> None:
    hasher = MultiHasher(name for name in ("md5", "sha1"))
    hasher.update(BLOCK)
    assert set(hasher.digests()) == {"md5", "sha1"}


# --- algorithms_needed -----------------------------------------------------------------------


def test_algorithms_needed() -> None:
    sha1 = parse_declared_digest("sha1:" + base64.b32encode(digest_of("sha1")).decode())
    md5 = parse_declared_digest("MD5:" + digest_of("md5").hex())
    unknown = parse_declared_digest("crc32:abcd")
    garbage = parse_declared_digest("sha512:xyz")
    assert algorithms_needed() == {"sha256"}
    assert algorithms_needed(None) == {"sha256"}
    assert algorithms_needed(sha1) == {"sha1", "sha256"}
    assert algorithms_needed(sha1, md5, None) == {"md5", "sha1", "sha256"}
    assert algorithms_needed(unknown, garbage) == {"sha256"}


# --- encode_digest ---------------------------------------------------------------------------


def test_encode_sha1_is_base32() -> None:
    value = digest_of("sha1")
    assert encode_digest("sha1", value) == "sha1:" + base64.b32encode(value).decode()


@pytest.mark.parametrize("algorithm", [a for a in ALGORITHMS if a != "sha1"])
def test_encode_others_are_lower_hex(algorithm: str) -> None:
    value = digest_of(algorithm)
    assert (
        encode_digest(algorithm, value)
        == f"{algorithm}:{hashlib.new(algorithm, BLOCK).hexdigest()}"
    )


def test_encode_normalises_the_label() -> None:
    value = digest_of("sha256")
    assert encode_digest("SHA-256", value) == encode_digest("sha256", value)


def test_encode_refuses_what_it_cannot_name() -> None:
    with pytest.raises(ValueError, match="unknown digest algorithm"):
        encode_digest("crc32", b"\0\0\0\0")
    with pytest.raises(ValueError, match="20 bytes"):
        encode_digest("sha1", digest_of("sha256"))


# --- properties ------------------------------------------------------------------------------


@st.composite
def algorithm_and_value(draw: st.DrawFn) -> tuple[str, bytes]:
    algorithm = draw(st.sampled_from(ALGORITHMS))
    size = hashlib.new(algorithm).digest_size
    return algorithm, draw(st.binary(min_size=size, max_size=size))


@given(algorithm_and_value())
def test_encode_then_parse_round_trips(pair: tuple[str, bytes]) -> None:
    algorithm, value = pair
    text = encode_digest(algorithm, value)
    assert parse_declared_digest(text) == DeclaredDigest(text, algorithm, value)


@given(algorithm_and_value(), st.sampled_from(sorted(encodings(b"\0").keys())))
def test_every_encoding_round_trips(pair: tuple[str, bytes], form: str) -> None:
    algorithm, value = pair
    declared = parse_declared_digest(f"{algorithm}:{encodings(value)[form]}")
    assert declared is not None
    assert declared.value == value


@given(algorithm_and_value(), st.lists(st.sampled_from(["upper", "lower", "-", "_"])))
def test_label_spelling_does_not_matter(pair: tuple[str, bytes], spelling: list[str]) -> None:
    algorithm, value = pair
    label = algorithm
    for step in spelling:
        if step == "upper":
            label = label.upper()
        elif step == "lower":
            label = label.lower()
        else:
            label = label[:3] + step + label[3:]
    declared = parse_declared_digest(f"{label}:{value.hex()}")
    assert declared is not None
    assert (declared.algorithm, declared.value) == (algorithm, value)


@given(st.data(), st.sampled_from(ALGORITHMS), st.binary(min_size=1, max_size=4096))
def test_streamed_chunks_verify_and_one_flipped_byte_does_not(
    data: st.DataObject, algorithm: str, payload: bytes
) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(payload)), max_size=12)))
    bounds = [0, *cuts, len(payload)]
    declared = parse_declared_digest(
        encode_digest(algorithm, hashlib.new(algorithm, payload).digest())
    )

    hasher = MultiHasher(algorithms_needed(declared))
    for start, end in pairwise(bounds):
        hasher.update(payload[start:end])
    assert verify_digest(declared, hasher.digests()) is DigestStatus.OK

    index = data.draw(st.integers(0, len(payload) - 1))
    flip = data.draw(st.integers(1, 255))
    tampered = bytearray(payload)
    tampered[index] ^= flip
    hasher = MultiHasher(algorithms_needed(declared))
    for start, end in pairwise(bounds):
        hasher.update(tampered[start:end])
    assert verify_digest(declared, hasher.digests()) is DigestStatus.MISMATCH


@given(st.binary(max_size=2048), st.lists(st.integers(0, 2048), max_size=8))
def test_multihasher_equals_one_shot_hashlib(payload: bytes, cuts: list[int]) -> None:
    bounds = [0, *sorted(min(c, len(payload)) for c in cuts), len(payload)]
    hasher = MultiHasher(ALGORITHMS)
    for start, end in pairwise(bounds):
        hasher.update(payload[start:end])
    assert hasher.digests() == {name: hashlib.new(name, payload).digest() for name in ALGORITHMS}


@given(st.one_of(st.none(), st.text()))
def test_parse_never_raises(raw: str | None) -> None:
    declared = parse_declared_digest(raw)
    if raw is None or not raw.strip():
        assert declared is None
        return
    assert declared is not None
    assert declared.raw == raw
    assert declared.supported is (declared.algorithm is not None and declared.value is not None)
    if declared.algorithm is None:
        assert declared.value is None
    if declared.value is not None:
        assert declared.algorithm is not None
        assert len(declared.value) == hashlib.new(declared.algorithm).digest_size
