"""Real, downloadable files behind the media buyers send in the sandbox.

The buyer script (script.py) is pure and names placeholder links; when a buyer's photo,
file, voice note or video is written, the sandbox stores a small real file for it and puts
its own link in the message, so the console can open and save what buyers send (Divar's
messages carry CDN links the same way: docs/events, `image_data.link`).
"""

from __future__ import annotations

from typing import Any

from kenar_api.media import MediaKind
from kenar_tui.sandbox.media_store import MediaFull, MediaStore
from kenar_tui.sandbox.pictures import picture
from kenar_tui.sandbox.script import MEDIA_HOST

# A one-page PDF, small enough to read in a test's failure output.
_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
# An ISO base-media header (M4A and MP4 both start so); enough for a player to name it.
_MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"

FIELDS = {
    "IMAGE": ("image_data", MediaKind.IMAGE, "photo.png", "image/png"),
    "FILE": ("file_data", MediaKind.FILE, "document.pdf", "application/pdf"),
    "VOICE": ("voice_data", MediaKind.VOICE, "voice.m4a", "audio/mp4"),
    "VIDEO": ("video_data", MediaKind.VIDEO, "video.mp4", "video/mp4"),
}


def content_for(kind: str, seed: str) -> bytes:
    if kind == "IMAGE":
        return picture(f"buyer:{seed}")
    if kind == "FILE":
        return _PDF
    return _MP4_HEAD + bytes(2048)


def with_real_file(
    kind: str, payload: dict[str, Any], store: MediaStore, base_url: str
) -> dict[str, Any]:
    """`payload` with its placeholder link replaced by a stored file's link (if it has one)."""
    spec = FIELDS.get(kind)
    if spec is None:
        return payload
    field, media_kind, default_name, content_type = spec
    data = payload.get(field)
    if not isinstance(data, dict) or not str(data.get("link", "")).startswith(MEDIA_HOST):
        return payload
    name = str(data.get("name") or default_name)
    content = content_for(kind, str(data["link"]))
    try:
        media = store.add(media_kind, name, content_type, content, uploaded_by_app=False)
    except MediaFull:
        return payload  # the placeholder link stays; the message still arrives
    real = {**data, "link": f"{base_url}/media/{media.media_token}", "size_bytes": len(content)}
    if kind == "VIDEO":
        real.pop("thumbnail_link", None)
    return {**payload, field: real}
