"""Saving what a buyer sent (a photo, file, voice note or video) to the download folder.

The message's link (`image_data.link` and its kin, docs/events/chat.md) is fetched with a
bounded body (MAX_BYTES, Divar's largest upload, a video of 50 MB, plus slack): a bigger
answer is cut off and nothing is kept. The file is created new (never overwriting: "photo
(2).png") with mode 0600, since chat media is private; its name comes from the message
(files carry one) or from the kind and content type, cleaned of path separators and control
characters. Only http(s) links are fetched.
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import platformdirs

from kenar_api.media import RULES, MediaKind
from kenar_api.messages import Message
from kenar_core.errors import MediaError

MAX_BYTES = RULES[MediaKind.VIDEO].limit + 1024 * 1024
TIMEOUT_S = 30.0
EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "application/pdf": ".pdf",
    "audio/mp4": ".m4a",
    "audio/3gpp": ".3gp",
    "video/mp4": ".mp4",
}
DEFAULT_NAMES = {"IMAGE": "photo", "FILE": "file", "VOICE": "voice", "VIDEO": "video"}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:]+")


@dataclass(frozen=True, slots=True)
class MediaLink:
    kind: str  # IMAGE | FILE | VOICE | VIDEO
    link: str
    name: str | None


def media_of(message: Message | None) -> MediaLink | None:
    """The downloadable media of a message, or None for text, location and contact."""
    if message is None:
        return None
    for kind, data in (
        ("IMAGE", message.image_data),
        ("FILE", message.file_data),
        ("VOICE", message.voice_data),
        ("VIDEO", message.video_data),
    ):
        if data is not None and data.link:
            name = getattr(data, "name", None)
            return MediaLink(kind, str(data.link), str(name) if name else None)
    return None


def download_folder() -> Path:
    return Path(platformdirs.user_downloads_dir())


def safe_name(media: MediaLink, content_type: str) -> str:
    base = _UNSAFE.sub("_", media.name or "").strip(" ._") if media.name else ""
    if not base:
        base = DEFAULT_NAMES.get(media.kind, "file")
    if not Path(base).suffix:
        base += EXTENSIONS.get(content_type.split(";")[0].strip().lower(), "")
    return base[:120]


def _create_private(folder: Path, name: str) -> tuple[Path, int]:
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in range(1, 1000):
        candidate = folder / (name if n == 1 else f"{stem} ({n}){suffix}")
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        return candidate, fd
    raise MediaError(f"{folder} already holds 999 files named like {name}")


async def read_bounded(
    http: httpx.AsyncClient, link: str, *, limit: int, what: str = "file"
) -> tuple[bytes, str]:
    """The bytes at `link` and their content type, refused past `limit` bytes while streaming
    (a lying or absent Content-Length changes nothing); MediaError in a sentence otherwise."""
    try:
        async with http.stream("GET", link, timeout=TIMEOUT_S) as answer:
            if answer.status_code != 200:
                raise MediaError(f"the {what} was refused (HTTP {answer.status_code})")
            chunks: list[bytes] = []
            size = 0
            async for chunk in answer.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise MediaError(f"the {what} is larger than Divar allows; nothing was kept")
                chunks.append(chunk)
            return b"".join(chunks), answer.headers.get("content-type", "")
    except httpx.HTTPError:
        raise MediaError(
            f"the {what} could not be downloaded (no connection or no answer)"
        ) from None


async def fetch(media: MediaLink, http: httpx.AsyncClient) -> tuple[bytes, str]:
    """The file's bytes and content type, at most MAX_BYTES."""
    scheme = urlsplit(media.link).scheme.lower()
    if scheme not in ("http", "https"):
        raise MediaError("only http(s) links are downloaded")
    return await read_bounded(http, media.link, limit=MAX_BYTES)


async def save(media: MediaLink, http: httpx.AsyncClient, folder: Path | None = None) -> Path:
    """Download and write the file, new and private (0600), off the loop; its path."""
    content, content_type = await fetch(media, http)
    name = safe_name(media, content_type)
    return await asyncio.to_thread(_write, folder or download_folder(), name, content)


def _write(folder: Path, name: str, content: bytes) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path, fd = _create_private(folder, name)
        with os.fdopen(fd, "wb") as out:
            out.write(content)
    except OSError as exc:
        raise MediaError(f"the file could not be written to {folder} ({exc.strerror})") from None
    return path
