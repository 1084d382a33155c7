"""Masked logs and screens: phones shortened, tokens hidden, identifiers cut."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from kenar_core.redaction import (
    RedactingFilter,
    install_redaction,
    mask_phone,
    redact,
    short_id,
)

from .samples import PHONES


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+989123456789", "+98912•••6789"),
        ("09123456789", "0912•••6789"),
        ("۰۹۱۲۳۴۵۶۷۸۹", "0912•••6789"),
        ("٠٩١٢٣٤٥٦٧٨٩", "0912•••6789"),
        ("+98 912 345 6789", "+98912•••6789"),
        ("00989123456789", "0098912•••6789"),
        ("9123456789", "912•••6789"),
        ("+14155552671", "+141•••2671"),
        ("02188776655", "021•••6655"),
        ("12345", "•••45"),
        ("", "•••"),
    ],
)
def test_mask_phone_keeps_prefix_and_last_four(phone: str, masked: str) -> None:
    """A phone shows its country/operator prefix and last four digits, never the middle."""
    assert mask_phone(phone) == masked


def test_short_id_keeps_six_characters() -> None:
    """Long identifiers appear as their first six characters and an ellipsis."""
    assert short_id("gAAAAQoM8b2kxZ") == "gAAAAQ…"
    assert short_id("abc") == "abc"
    assert short_id(None) == "-"


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "eyJhbGci"),
        ("sent with access_token=ab12cd34ef56", "ab12cd34ef56"),
        ('{"refresh_token": "r-9f8e7d6c5b"}', "r-9f8e7d6c5b"),
        ("x-api-key: kenar_live_Q1w2E3r4", "kenar_live_Q1w2E3r4"),
        ("authorization: idkey-3c4d5e6f7a", "idkey-3c4d5e6f7a"),
        ("token=rt_5566778899", "rt_5566778899"),
    ],
)
def test_redact_hides_secrets(text: str, hidden: str) -> None:
    """Bearer tokens, JWTs and token/key values are replaced by •••."""
    redacted = redact(text)
    assert hidden not in redacted
    assert "•••" in redacted


def test_redact_leaves_ordinary_lines_alone() -> None:
    """Sequence numbers, times, post tokens and ordinary words are not mistaken for secrets."""
    for line in (
        "stored seq=1700000000 in 3 ms",
        "relay token revoked for alice",
        "post_token=AaBbCc12 conversation 5f0c…",
        "batch of 12345678901 rows",
    ):
        assert redact(line) == line


def test_redact_is_idempotent() -> None:
    """Redacting twice gives the same line (a record may pass two handlers)."""
    line = "buyer +989123456789 Bearer abcdefghij token=zzzzzz"
    assert redact(redact(line)) == redact(line)


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A real logger writing to a string, with redaction installed, removed afterwards."""
    logger = logging.getLogger("tests.privacy.redaction")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    install_redaction(logger)
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)
        handler.close()
        logger.filters.clear()
        logger.propagate = True


def test_log_records_have_phones_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    """Phone numbers in log arguments (Latin, Persian, Arabic-Indic digits) come out masked."""
    logger, stream = captured
    for phone in PHONES:
        logger.info("contact shared: %s", phone)
    logger.info("buyer wrote from %s", "+98 935 111 2233")
    text = stream.getvalue()
    for phone in (*PHONES, "935 111 2233"):
        assert phone not in text
    assert "0912•••6789" in text
    assert "+98935•••2233" in text
    assert "0919•••5432" in text
    assert "0901•••5678" in text


def test_log_records_have_tokens_hidden(captured: tuple[logging.Logger, io.StringIO]) -> None:
    """A bearer token passed as a log argument never reaches the handler."""
    logger, stream = captured
    logger.warning("upstream refused %s", {"Authorization": "Bearer s3cr3t-t0ken-value"})
    assert "s3cr3t-t0ken-value" not in stream.getvalue()
    assert "Bearer •••" in stream.getvalue()


def test_tracebacks_are_redacted(captured: tuple[logging.Logger, io.StringIO]) -> None:
    """An exception message quoting a phone number is masked in the logged traceback."""
    logger, stream = captured
    try:
        raise ValueError("bad contact 09123456789 with access_token=abcdef123456")
    except ValueError:
        logger.exception("could not parse")
    text = stream.getvalue()
    assert "Traceback" in text
    assert "09123456789" not in text and "abcdef123456" not in text
    assert "0912•••6789" in text


def test_child_logger_records_are_redacted_at_the_parent_handler(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    """Records propagated from a child logger pass the handler's filter too."""
    logger, stream = captured
    child = logging.getLogger(f"{logger.name}.store")
    child.info("dedupe hit for +989123456789")
    assert "+989123456789" not in stream.getvalue()
    assert "+98912•••6789" in stream.getvalue()


def test_install_redaction_is_idempotent(captured: tuple[logging.Logger, io.StringIO]) -> None:
    """Installing twice adds no second filter anywhere."""
    logger, _ = captured
    again = install_redaction(logger)
    assert sum(isinstance(f, RedactingFilter) for f in logger.filters) == 1
    assert all(sum(isinstance(f, RedactingFilter) for f in h.filters) == 1 for h in logger.handlers)
    assert isinstance(again, RedactingFilter)


def test_unformattable_record_is_still_logged(captured: tuple[logging.Logger, io.StringIO]) -> None:
    """A record whose arguments do not fit its format is kept (marked), not dropped or raised."""
    logger, stream = captured
    logger.info("two values %s %s", "only-one")
    assert "unformattable" in stream.getvalue()
