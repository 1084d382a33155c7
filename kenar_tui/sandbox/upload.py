"""Chat media uploads as the sandbox serves them (kenar-docs docs/chat/upload_media.md).

1. `POST /experimental/open-platform/chat/upload` on the API address, with the API key
   (permission CHAT_UPLOAD_MEDIA, OpenAPI ChatAPI_GenerateUploadToken): `{"token": ...}`.
2. `POST /upload/{image|video|voice|file}` on the upload address (Divar's chat.divar.ir; the
   sandbox's own second port), multipart with the field `file` and
   `Authorization: Bearer <upload token>`: `{"id": <media_token>, "status": "ok"}`.
   Formats and limits as the page lists them; anything else is a 400 with a sentence.
3. A send carrying `media_token` (api.send_message) shows the file to the buyer.

`GET /media/{media_token}` serves a stored file, like Divar's CDN links in received messages.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kenar_api.headers import read_access_token
from kenar_api.media import RULES, MediaKind, check_content, check_size, kind_of_name
from kenar_core.errors import MediaError
from kenar_tui.sandbox.api import check_api_key, core_of
from kenar_tui.sandbox.media_store import MediaFull
from kenar_tui.sandbox.registration import UPLOAD_PERMISSION
from kenar_tui.sandbox.rejection import (
    INVALID_ARGUMENT,
    RESOURCE_EXHAUSTED,
    Rejection,
    invalid,
    not_found,
    unauthenticated,
)

# The largest body read at all: the video limit and room for the multipart framing.
MAX_BODY = RULES[MediaKind.VIDEO].limit + 64 * 1024


async def upload_token(request: Request) -> JSONResponse:
    """Step 1: an upload token for the API key (docs/chat/upload_media.md, مرحله ۱)."""
    core = core_of(request)
    check_api_key(request, UPLOAD_PERMISSION)
    raw = await request.body()
    if raw.strip() and raw.strip() != b"{}":
        raise invalid("the upload-token request takes an empty JSON object {}")
    return JSONResponse({"token": core.media.new_upload_token(core.clock.now())})


async def upload(request: Request) -> JSONResponse:
    """Step 2: the multipart upload on the upload address (docs/chat/upload_media.md, مرحله ۲)."""
    core = core_of(request)
    if request.url.port != core.upload_port:
        raise not_found(
            "uploads go to the upload host (chat.divar.ir in Divar), not the API address"
        )
    token = read_access_token(request.headers)
    if token is None:
        raise unauthenticated("the upload has no Authorization: Bearer <upload token>")
    if not core.media.upload_token_valid(token, core.clock.now()):
        raise unauthenticated("the upload token is not valid or has expired; ask for a new one")
    try:
        kind = MediaKind(request.path_params["media_type"])
    except ValueError:
        raise invalid("media_type is one of image, video, voice or file") from None
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise Rejection(
            INVALID_ARGUMENT, "the upload is larger than Divar takes (at most 50 MB)", status=413
        )
    # Read inside the context so the form's spooled files are closed whatever happens.
    async with request.form(max_files=1, max_fields=4, max_part_size=MAX_BODY) as form:
        part = form.get("file")
        if not isinstance(part, UploadFile) or not part.filename:
            raise invalid("the file goes in the multipart field 'file', with its file name")
        filename = part.filename
        content = await part.read()
    try:
        named_kind, content_type = kind_of_name(filename)
        if named_kind != kind:
            raise MediaError(f"{filename} is a {named_kind.value}, not a {kind.value}")
        check_size(kind, len(content), filename)
        check_content("." + filename.rsplit(".", 1)[-1], content[:16], filename)
    except MediaError as exc:
        raise invalid(str(exc), field="file") from None
    try:
        media = core.media.add(kind, filename, content_type, content, uploaded_by_app=True)
    except MediaFull as exc:
        raise Rejection(RESOURCE_EXHAUSTED, str(exc)) from None
    core.log.info("sandbox upload: one %s stored", kind.value)
    return JSONResponse({"id": media.media_token, "status": "ok"})


async def download(request: Request) -> Response:
    """A stored file, as Divar's CDN serves the links in received messages."""
    media = core_of(request).media.get(request.path_params["media_token"])
    if media is None:
        raise not_found("there is no such file")
    return Response(
        media.content,
        media_type=media.content_type,
        headers={"Content-Disposition": "attachment"},
    )


ROUTES = [
    Route("/experimental/open-platform/chat/upload", upload_token, methods=["POST"]),
    Route("/upload/{media_type}", upload, methods=["POST"]),
    Route("/media/{media_token}", download, methods=["GET"]),
]
