"""Small PNG pictures the sandbox serves: a post's photo and the photos buyers send.

Drawn with Pillow from a seed so every run serves the same bytes; each is a few kilobytes.
"""

from __future__ import annotations

import hashlib
import io

from PIL import Image, ImageDraw

SIZE = (160, 120)


def _colour(seed: bytes, offset: int) -> tuple[int, int, int]:
    return (seed[offset], seed[offset + 1], seed[offset + 2])


def picture(seed_text: str) -> bytes:
    """A PNG with a two-colour gradient and a dent-like ellipse, the same for the same seed."""
    seed = hashlib.sha256(seed_text.encode()).digest()
    top, bottom, mark = _colour(seed, 0), _colour(seed, 3), _colour(seed, 6)
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    width, height = SIZE
    for y in range(height):
        share = y / (height - 1)
        colour = tuple(int(a + (b - a) * share) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    x, y = 30 + seed[9] % 60, 20 + seed[10] % 50
    draw.ellipse([x, y, x + 40, y + 30], outline=mark, width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def post_picture(post_token: str) -> bytes:
    return picture(f"post:{post_token}")
