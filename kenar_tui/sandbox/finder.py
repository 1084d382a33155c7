"""Divar's finder as the sandbox serves it, from the sandbox's post catalogue.

`GET /v1/open-platform/finder/post/{token}` (kenar-docs docs/post/get_post.md: the API key
alone; OpenAPI Finder_GetPost needs the key permission GET_POST) and
`GET /v1/open-platform/finder/user-posts` (docs/post/get_user_posts.md: a user token with the
scope USER_POSTS_GET; key permission GET_USER_POSTS). Zero values are left out, as protobuf
JSON does; prices come as `{"mode": "مقطوع", "value": n}` like the docs' example.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kenar_api import scopes as scope_rules
from kenar_tui.sandbox.api import check_api_key, check_token, core_of
from kenar_tui.sandbox.catalogue import CataloguePost
from kenar_tui.sandbox.pictures import post_picture
from kenar_tui.sandbox.registration import GET_POST_PERMISSION, USER_POSTS_PERMISSION
from kenar_tui.sandbox.rejection import denied, not_found

POST_IMAGE_PATH = "/static/post-image/{token}.png"


def image_links(request: Request, post: CataloguePost) -> list[str]:
    base = str(request.base_url).rstrip("/")
    return [base + POST_IMAGE_PATH.format(token=post.token)]


def finder_post(request: Request, post: CataloguePost) -> dict[str, Any]:
    """The docs' shape: token, category, city, district, chat_enabled and `data`."""
    data: dict[str, Any] = {
        "title": post.title,
        "description": post.openers[0] if post.openers else "",
        "images": image_links(request, post),
        "price": {"mode": "مقطوع", "value": post.price},
        **post.extra,
    }
    return {
        "token": post.token,
        "category": post.category,
        "city": post.city,
        "district": post.district,
        "chat_enabled": True,
        "data": data,
    }


async def get_post(request: Request) -> JSONResponse:
    """`GET /v1/open-platform/finder/post/{token}` (docs/post/get_post.md)."""
    core = core_of(request)
    check_api_key(request, GET_POST_PERMISSION)
    token = request.path_params["token"]
    post = core.world.posts.get(token)
    if post is None:
        raise not_found(f"there is no post {token}")
    core.finder_reads += 1
    return JSONResponse(finder_post(request, post))


async def user_posts(request: Request) -> JSONResponse:
    """`GET /v1/open-platform/finder/user-posts` (docs/post/get_user_posts.md)."""
    core = core_of(request)
    check_api_key(request, USER_POSTS_PERMISSION)
    pair = check_token(request)
    names = {s.name for s in scope_rules.parse_scopes(pair.scopes)}
    if scope_rules.POSTS_GET not in names:
        raise denied(f"listing the user's posts needs the scope {scope_rules.POSTS_GET}")
    posts = [
        {
            "token": post.token,
            "title": post.title,
            "images": image_links(request, post),
            "is_phone_hidden": True,
            "category": post.category,
        }
        for post in core.world.posts.values()
    ]
    return JSONResponse({"posts": posts})


async def post_image(request: Request) -> Response:
    """A post's picture, drawn for the sandbox (Divar serves these from its CDN)."""
    token = request.path_params["token"]
    if token not in core_of(request).world.posts:
        raise not_found(f"there is no picture of post {token}")
    return Response(post_picture(token), media_type="image/png")


ROUTES = [
    Route("/v1/open-platform/finder/post/{token}", get_post, methods=["GET"]),
    Route("/v1/open-platform/finder/user-posts", user_posts, methods=["GET"]),
    Route("/static/post-image/{token}.png", post_image, methods=["GET"]),
]
