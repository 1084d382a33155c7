"""Divar's finder answers: one post by token, and the seller's own posts.

`GET /v1/open-platform/finder/post/{token}` (kenar-docs docs/post/get_post.md; OpenAPI
finderGetPostResponse) and `GET /v1/open-platform/finder/user-posts` with the scope
USER_POSTS_GET (docs/post/get_user_posts.md; finderGetUserPostsResponse). Protobuf JSON:
a field left out is its zero value, a price may come as a string, `data` may be null.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

GET_POST_PATH = "/v1/open-platform/finder/post/{id}"
USER_POSTS_PATH = "/v1/open-platform/finder/user-posts"


def _price_value(raw: Any) -> int | None:
    """`data.price` is `{"mode": ..., "value": n}` in the docs; older posts carry a bare number."""
    if isinstance(raw, dict):
        raw = raw.get("value")
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw > 0 else None
    if isinstance(raw, str) and raw.strip().isdigit():
        value = int(raw.strip())
        return value if value > 0 else None
    return None


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class BusinessData(_Open):
    business_type: str | None = None
    business_name: str | None = None


class PostResponse(_Open):
    """One post as the finder gives it; `title`, `price` and `images` read `data` safely."""

    token: str = ""
    category: str = ""
    city: str = ""
    district: str = ""
    chat_enabled: bool = False
    data: dict[str, Any] = Field(default_factory=dict)
    business_data: BusinessData | None = None

    @field_validator("data", mode="before")
    @classmethod
    def _null_data(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else {}

    @property
    def title(self) -> str | None:
        for key in ("title", "prefilled_title"):
            value = self.data.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None

    @property
    def price(self) -> int | None:
        """The asking price in tomans, or None when the post names none."""
        return _price_value(self.data.get("price"))

    @property
    def images(self) -> list[str]:
        raw = self.data.get("images")
        return [u for u in raw if isinstance(u, str)] if isinstance(raw, list) else []


class UserPost(_Open):
    token: str = ""
    title: str = ""
    images: list[str] = Field(default_factory=list)
    category: str = ""
    is_phone_hidden: bool = False


class UserPostsResponse(_Open):
    posts: list[UserPost] = Field(default_factory=list)

    @field_validator("posts", mode="before")
    @classmethod
    def _null_posts(cls, value: Any) -> Any:
        return value if isinstance(value, list) else []
