"""Masking what logs and screens must not show in full: phone numbers, tokens, identifiers.

`mask_phone` keeps what helps a person recognise a number (the country and operator prefix and
the last four digits) and hides the rest: "+989123456789" -> "+98912•••6789". `short_id`
shortens an identifier to its first six characters. `RedactingFilter` rewrites log records so
that phone numbers (Latin, Persian and Arabic-Indic digits) and bearer tokens, JWTs and
`token=`/`api_key:`-style values never reach a log handler. `quiet_wire_logs` silences the
DEBUG dumps of websocket libraries (request headers, with the relay token in them).
"""

from __future__ import annotations

import logging
import re
from typing import Any

HIDDEN = "•••"
ELLIPSIS = "…"

# Persian (U+06F0-06F9) and Arabic-Indic (U+0660-0669) digits, as users type numbers in Iran.
_DIGIT_MAP = {ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")} | {
    ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")
}
_D = "[0-9۰-۹٠-٩]"
_SEP = r"[ \-.]?"


def latin_digits(text: str) -> str:
    """`text` with Persian and Arabic-Indic digits replaced by 0-9."""
    return text.translate(_DIGIT_MAP)


def mask_phone(phone: str) -> str:
    """`phone` with its middle digits hidden: country/operator prefix and last 4 digits kept.

    "+989123456789" -> "+98912•••6789", "۰۹۱۲۳۴۵۶۷۸۹" -> "0912•••6789",
    "+1 415 555 2671" -> "+141•••2671". At least three digits are always hidden.
    """
    digits = "".join(c for c in latin_digits(phone) if c.isdigit() and c.isascii())
    plus = "+" if phone.strip().startswith("+") else ""
    if not digits:
        return HIDDEN
    if plus and digits.startswith("98"):
        head = 5  # 98 + the operator's 9xx
    elif digits.startswith("0098"):
        head = 7
    elif digits.startswith("09"):
        head = 4
    elif digits.startswith("0") and len(digits) == 11:
        head = 3  # 0 + a landline's area code
    elif digits.startswith("9") and len(digits) == 10:
        head = 3
    else:
        head = 3 if plus else 2
    tail = 4 if len(digits) >= 8 else 2
    head = max(0, min(head, len(digits) - tail - 3))
    tail = min(tail, max(len(digits) - head - 3, 0))
    return f"{plus}{digits[:head]}{HIDDEN}{digits[len(digits) - tail :] if tail else ''}"


def short_id(value: str | None) -> str:
    """The first six characters of an identifier and "…" (identifiers in logs and status lines)."""
    if not value:
        return "-"
    return value if len(value) <= 7 else value[:6] + ELLIPSIS


# -- what the log filter looks for ---------------------------------------------------------------

# Latin letters before a run make it part of an identifier; Persian words may touch a number.
_NOT_DIGIT_BEFORE = r"(?<![0-9۰-۹٠-٩A-Za-z_+])"
_NOT_DIGIT_AFTER = r"(?![0-9۰-۹٠-٩])"
PHONE_PATTERN = re.compile(
    _NOT_DIGIT_BEFORE
    + "(?:"
    # Iranian mobiles: +98 / 0098 / 0 / nothing, then 9 and nine digits, spaces or dashes between.
    + rf"(?:(?:\+|00){_D}{{2}}{_SEP}|{_D})?{_D}{{3}}{_SEP}{_D}{{3}}{_SEP}{_D}{{4}}"
    # International: + and 8 to 15 digits, with single separators between groups.
    + rf"|\+{_D}(?:{_SEP}{_D}){{7,14}}"
    + ")"
    + _NOT_DIGIT_AFTER
)
# Mobiles (9xx...) with or without +98/0098/0, and landlines written 0 + area code + number.
_IRANIAN_SHAPE = re.compile(r"^(?:(?:\+98|0098|0)?9\d{9}|0[1-8]\d{9})$")

_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # The relay's console tokens ("kr_" + 43 url-safe characters) in any form: a header, a
    # query (?t=kr_...), a path (/ws/kr_...), URL-encoded after "Bearer%20", inside reprs.
    (re.compile(r"(?<![A-Za-z])kr_[A-Za-z0-9_\-]{6,}"), f"kr_{HIDDEN}"),
    # Authorization-style schemes: "Bearer abc.def", "Basic Zm9v", and URL-encoded spaces.
    (
        re.compile(r"(?i)\b(bearer|basic)(\s+|%20|\+)[A-Za-z0-9._~+/=\-]{6,}"),
        rf"\1\2{HIDDEN}",
    ),
    # JWTs wherever they appear.
    (re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), HIDDEN),
    # key=value and "key": "value" for secret-looking keys.
    (
        re.compile(
            r"(?i)\b((?:access|refresh|id|relay|client|auth)[_-]?token|token|api[_-]?key|"
            r"client[_-]?secret|secret|password|authorization|identification[_-]?key)"
            r"(\"?\s*[:=]\s*\"?)(?!bearer\b|basic\b)([^\s\"',&;•]{4,})"
        ),
        rf"\1\2{HIDDEN}",
    ),
)


def _mask_phone_match(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = "".join(c for c in latin_digits(found) if c.isdigit())
    # A bare 11-digit run only counts when it has the shape of an Iranian mobile number;
    # "+"-prefixed runs always count.
    if not found.startswith("+") and not _IRANIAN_SHAPE.match(digits):
        return found
    return mask_phone(found)


def redact(text: str) -> str:
    """`text` with phone numbers masked and secrets hidden (idempotent)."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return PHONE_PATTERN.sub(_mask_phone_match, text)


class RedactingFilter(logging.Filter):
    """Rewrites every record it sees so no phone number or token reaches a handler.

    The message is formatted once (arguments merged in), redacted, and stored back with no
    arguments; a traceback is formatted and redacted too, as exception messages can quote input.
    """

    def __init__(self) -> None:
        super().__init__()
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg!s} (unformattable arguments)"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_redaction(logger: logging.Logger) -> RedactingFilter:
    """Redact every record `logger` handles: on the logger and on each of its handlers.

    A logger's own filters only see records logged on it; its handlers' filters also see
    records propagated from child loggers, hence both. Installing twice adds nothing.
    """
    existing = _find(logger.filters)
    redacting = existing or RedactingFilter()
    if existing is None:
        logger.addFilter(redacting)
    for handler in logger.handlers:
        if _find(handler.filters) is None:
            handler.addFilter(redacting)
    return redacting


def _find(filters: list[Any]) -> RedactingFilter | None:
    return next((f for f in filters if isinstance(f, RedactingFilter)), None)


class DropDebug(logging.Filter):
    """Drops DEBUG (and lower) records: where websockets and uvicorn dump request headers."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def quiet_wire_logs(name: str) -> logging.Logger:
    """The logger `name`, made to drop its DEBUG records (installing twice adds nothing).

    websockets (the console's client, `websockets.client`) and uvicorn's websocket server
    (`uvicorn.error`) log every request header at DEBUG, the `Authorization: Bearer` relay
    token included; a logger's own filter stops those records before any handler, whatever
    level the logger is set to. Pass the result as `logger=` to `websockets...connect`.
    """
    logger = logging.getLogger(name)
    if not any(isinstance(f, DropDebug) for f in logger.filters):
        logger.addFilter(DropDebug())
    install_redaction(logger)
    return logger
