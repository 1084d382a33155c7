"""AES-GCM sealing: round trips, nothing in the clear, clear errors, rotation, dedupe hashes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from kenar_core.cipher import OVERHEAD, AesGcmSealer
from kenar_core.errors import KenarTuiError, SealingError
from kenar_core.keyfile import KeyRing
from kenar_core.sealing import PlainSealer, Sealer

from .samples import PERSIAN_MESSAGES, PHONES, needles


def entry_bytes(text: str, phone: str) -> bytes:
    """A payload shaped like a stored timeline entry."""
    body = {"kind": "message", "data": {"text": text, "phone": phone, "sender": {"name": "رضا"}}}
    return json.dumps(body, ensure_ascii=False).encode()


def test_round_trip_gives_back_every_byte() -> None:
    """What is sealed opens to exactly the same bytes, Persian text and empty bodies included."""
    sealer = AesGcmSealer(KeyRing.generate())
    for text, phone in zip(PERSIAN_MESSAGES, PHONES, strict=True):
        payload = entry_bytes(text, phone)
        assert sealer.open(sealer.seal(payload)) == payload
    assert sealer.open(sealer.seal(b"")) == b""


def test_sealer_fits_the_store_seam() -> None:
    """AesGcmSealer is usable wherever the stores take a Sealer."""
    sealer: Sealer = AesGcmSealer(KeyRing.generate())
    blob = sealer.seal(b"x")
    assert len(blob) == OVERHEAD + 1
    assert sealer.open(blob) == b"x"


def test_same_plaintext_seals_differently_each_time() -> None:
    """Two equal messages do not give equal blobs (random nonces), so equality leaks nothing."""
    sealer = AesGcmSealer(KeyRing.generate())
    assert sealer.seal(b"same") != sealer.seal(b"same")


def test_blobs_contain_no_message_or_phone_in_plain_bytes() -> None:
    """No sample message, message word or phone number appears in a sealed blob."""
    sealer = AesGcmSealer(KeyRing.generate())
    blobs = b"".join(
        sealer.seal(entry_bytes(t, p)) for t, p in zip(PERSIAN_MESSAGES, PHONES, strict=True)
    )
    for needle in needles():
        assert needle not in blobs


def test_sqlite_file_holds_no_plain_personal_data(tmp_path: Path) -> None:
    """A real SQLite file (and its WAL) of sealed rows contains none of the samples on disk."""
    sealer = AesGcmSealer(KeyRing.generate())
    path = tmp_path / "entries.sqlite3"
    db = sqlite3.connect(path)
    try:
        db.execute("pragma journal_mode=wal")
        db.execute("create table entries (seq integer primary key, dedupe text, body blob)")
        for number, (text, phone) in enumerate(zip(PERSIAN_MESSAGES, PHONES, strict=True)):
            db.execute(
                "insert into entries (dedupe, body) values (?, ?)",
                (sealer.keyed_hash(f"msg-{number}-{phone}"), sealer.seal(entry_bytes(text, phone))),
            )
        db.commit()
        on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
        for needle in needles():
            assert needle not in on_disk
        rows = db.execute("select body from entries order by seq").fetchall()
        assert [json.loads(sealer.open(r[0]))["data"]["text"] for r in rows] == list(
            PERSIAN_MESSAGES
        )
    finally:
        db.close()


def test_wrong_key_is_a_clear_error_naming_the_key_id() -> None:
    """A blob sealed under a key the ring does not hold says which key is missing."""
    mine, theirs = KeyRing.generate(), KeyRing.generate()
    blob = AesGcmSealer(theirs).seal(entry_bytes(PERSIAN_MESSAGES[0], PHONES[0]))
    with pytest.raises(SealingError) as caught:
        AesGcmSealer(mine).open(blob)
    message = str(caught.value)
    assert theirs.current_id in message
    assert mine.current_id in message
    assert "restore" in message
    assert isinstance(caught.value, KenarTuiError)


def test_a_different_key_under_the_same_id_fails_authentication() -> None:
    """A blob relabelled with the holder's key id fails as altered instead of opening to garbage."""
    mine, theirs = KeyRing.generate(), KeyRing.generate()
    blob = bytearray(AesGcmSealer(theirs).seal(b"hello"))
    blob[1:5] = bytes.fromhex(mine.current_id)
    with pytest.raises(SealingError, match="failed authentication"):
        AesGcmSealer(mine).open(bytes(blob))


def test_tampered_blob_is_refused() -> None:
    """Flipping one bit of a stored entry makes opening it fail with SealingError."""
    sealer = AesGcmSealer(KeyRing.generate())
    blob = bytearray(sealer.seal("سلام".encode()))
    blob[-1] ^= 1
    with pytest.raises(SealingError, match="altered"):
        sealer.open(bytes(blob))


def test_plain_or_truncated_entries_are_clear_errors() -> None:
    """An entry stored with encryption off, or cut short, is reported as such."""
    sealer = AesGcmSealer(KeyRing.generate())
    plain = PlainSealer().seal(entry_bytes(PERSIAN_MESSAGES[1], PHONES[1]))
    with pytest.raises(SealingError, match="encryption switched off"):
        sealer.open(plain)
    with pytest.raises(SealingError, match="shorter than any sealed entry"):
        sealer.open(sealer.seal(b"abc")[:10])


def test_associated_data_binds_a_blob_to_its_row() -> None:
    """A blob sealed for row 7 does not open as row 8 (no swapping rows between ids)."""
    sealer = AesGcmSealer(KeyRing.generate())
    blob = sealer.seal(b"body", associated_data=b"7")
    assert sealer.open(blob, associated_data=b"7") == b"body"
    with pytest.raises(SealingError):
        sealer.open(blob, associated_data=b"8")


def test_rotation_keeps_old_entries_readable_and_seals_new_ones_with_the_new_key() -> None:
    """After a rotation old blobs still open and new blobs carry the new key id."""
    ring = KeyRing.generate()
    old_blob = AesGcmSealer(ring).seal("پیام قدیمی".encode())
    rotated = ring.rotate()
    sealer = AesGcmSealer(rotated)
    new_blob = sealer.seal("پیام جدید".encode())
    assert rotated.current_id != ring.current_id
    assert sealer.key_id_of(old_blob) == ring.current_id
    assert sealer.key_id_of(new_blob) == rotated.current_id
    assert sealer.open(old_blob).decode() == "پیام قدیمی"
    assert sealer.open(new_blob).decode() == "پیام جدید"
    # Dropping the old key (its entries aged out) makes its blobs a clear error.
    with pytest.raises(SealingError, match=ring.current_id):
        AesGcmSealer(rotated.drop(ring.current_id)).open(old_blob)


def test_keyed_hash_survives_rotation_and_depends_on_the_index_key() -> None:
    """A message id's dedupe hash is the same after rotation and differs under another ring."""
    ring = KeyRing.generate()
    before = AesGcmSealer(ring).keyed_hash("c0f4d1e2-message-id")
    after = AesGcmSealer(ring.rotate().rotate()).keyed_hash("c0f4d1e2-message-id")
    other = AesGcmSealer(KeyRing.generate()).keyed_hash("c0f4d1e2-message-id")
    assert before == after
    assert before != other
    assert len(before) == 32 and int(before, 16) >= 0
    assert "c0f4d1e2" not in before
    assert AesGcmSealer(ring).keyed_hash("another-id") != before


def test_sealer_repr_shows_key_ids_only() -> None:
    """Printing a sealer names its key ids and never key material."""
    ring = KeyRing.generate().rotate()
    text = repr(AesGcmSealer(ring))
    assert ring.current_id in text
    for key in ring.keys.values():
        assert key.hex() not in text
