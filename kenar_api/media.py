"""Chat media as Divar takes it: kinds, formats and sizes, checked before any upload.

kenar-docs docs/chat/upload_media.md: three steps (an upload token from
`POST /experimental/open-platform/chat/upload`, a multipart upload to
`https://chat.divar.ir/upload/{image|video|voice|file}` with the field `file` and
`Authorization: Bearer <upload token>`, answered `{"id": <media_token>, "status": "ok"}`,
then a send carrying `media_token`). Allowed: images PNG/JPEG/JPG ≤ 5 MB, files
PDF/DOC(X)/XLS(X)/PPT(X) ≤ 5 MB, voice M4A/3GP ≤ 1.5 MB, video MP4 ≤ 50 MB.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from kenar_core.errors import MediaError

UPLOAD_TOKEN_PATH = "/experimental/open-platform/chat/upload"
UPLOAD_PATH = "/upload/{id}"
DEFAULT_UPLOAD_BASE = "https://chat.divar.ir"
MB = 1024 * 1024


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    VOICE = "voice"
    FILE = "file"


@dataclass(frozen=True, slots=True)
class MediaRule:
    kind: MediaKind
    limit: int
    words: str  # how the limit reads in a sentence


RULES = {
    MediaKind.IMAGE: MediaRule(MediaKind.IMAGE, 5 * MB, "5 MB"),
    MediaKind.FILE: MediaRule(MediaKind.FILE, 5 * MB, "5 MB"),
    MediaKind.VOICE: MediaRule(MediaKind.VOICE, 3 * MB // 2, "1.5 MB"),
    MediaKind.VIDEO: MediaRule(MediaKind.VIDEO, 50 * MB, "50 MB"),
}

# Extension -> (kind, content type sent in the multipart part).
FORMATS: dict[str, tuple[MediaKind, str]] = {
    ".png": (MediaKind.IMAGE, "image/png"),
    ".jpg": (MediaKind.IMAGE, "image/jpeg"),
    ".jpeg": (MediaKind.IMAGE, "image/jpeg"),
    ".pdf": (MediaKind.FILE, "application/pdf"),
    ".doc": (MediaKind.FILE, "application/msword"),
    ".docx": (
        MediaKind.FILE,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ".xls": (MediaKind.FILE, "application/vnd.ms-excel"),
    ".xlsx": (MediaKind.FILE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".ppt": (MediaKind.FILE, "application/vnd.ms-powerpoint"),
    ".pptx": (
        MediaKind.FILE,
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ".m4a": (MediaKind.VOICE, "audio/mp4"),
    ".3gp": (MediaKind.VOICE, "audio/3gpp"),
    ".mp4": (MediaKind.VIDEO, "video/mp4"),
}

ALLOWED_WORDS = "PNG/JPEG photos, PDF/DOC(X)/XLS(X)/PPT(X) files, M4A/3GP voice or MP4 video"

# Magic numbers of the formats, so a renamed file is refused before it is uploaded.
_MAGIC: dict[str, tuple[bytes, ...]] = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".pdf": (b"%PDF",),
}


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A file that passed the checks: what to upload and how."""

    path: Path
    kind: MediaKind
    content_type: str
    size: int

    @property
    def name(self) -> str:
        return self.path.name


def kind_of_name(name: str) -> tuple[MediaKind, str]:
    """The kind and content type for a file name, or MediaError saying what is allowed."""
    suffix = Path(name).suffix.lower()
    found = FORMATS.get(suffix)
    if found is None:
        shown = suffix or "no extension"
        raise MediaError(f"Divar's chat does not take {shown} files; send {ALLOWED_WORDS}.")
    return found


def check_size(kind: MediaKind, size: int, name: str) -> None:
    rule = RULES[kind]
    if size <= 0:
        raise MediaError(f"{name} is empty; nothing to send.")
    if size > rule.limit:
        raise MediaError(
            f"{name} is {size / MB:.1f} MB; Divar takes a {kind.value} of at most {rule.words}."
        )


def check_content(suffix: str, head: bytes, name: str) -> None:
    magic = _MAGIC.get(suffix.lower())
    if magic and not any(head.startswith(m) for m in magic):
        raise MediaError(f"{name} is not really a {suffix.lstrip('.').upper()} file.")


def check_file(path: Path) -> MediaFile:
    """Check a file before any upload: readable, allowed type, within its size limit."""
    path = path.expanduser()
    name = path.name or str(path)
    kind, content_type = kind_of_name(name)
    try:
        if not path.is_file():
            raise MediaError(f"{name} is not a file that can be read.")
        size = path.stat().st_size
        check_size(kind, size, name)
        with path.open("rb") as handle:
            head = handle.read(16)
    except MediaError:
        raise
    except OSError:
        raise MediaError(f"{name} cannot be read (missing, or no permission).") from None
    check_content(path.suffix, head, name)
    return MediaFile(path=path, kind=kind, content_type=content_type, size=size)


def read_checked(media: MediaFile) -> bytes:
    """The file's bytes, checked again: it may have changed since it was picked."""
    try:
        content = media.path.read_bytes()
    except OSError:
        raise MediaError(f"{media.name} cannot be read (missing, or no permission).") from None
    check_size(media.kind, len(content), media.name)
    check_content(media.path.suffix, content[:16], media.name)
    return content


class UploadTokenResponse(BaseModel):
    model_config = ConfigDict(extra="allow")
    token: str


class UploadResponse(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    status: str = ""
