"""Small builders shared by tests: images made in memory with Pillow, API Gateway events."""

from __future__ import annotations

import base64
import io
import json
import os

from PIL import Image


def make_image(fmt: str = "PNG", size: tuple[int, int] = (64, 48), color=(200, 30, 30)) -> bytes:
    """An image of the given format, made in memory."""
    buffer = io.BytesIO()
    mode = "RGBA" if fmt in ("PNG", "WEBP") else "RGB"
    Image.new(mode, size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def unique_color() -> tuple[int, int, int]:
    """A colour of its own for a picture sent through a portal form on a stack other tests
    share: the forms ask before storing a picture already in the catalog."""
    return tuple(os.urandom(3))


def jpeg_with_artist(picture: Image.Image, artist: str | None = None) -> bytes:
    """The picture as a JPEG, with an EXIF Artist when given: the same picture with another
    Artist differs only in its EXIF segment (the encoder is deterministic, so the coded data,
    and the decoded pixels, are the same) — a duplicate by pixels, not by bytes."""
    out = io.BytesIO()
    extra = {}
    if artist is not None:
        exif = Image.Exif()
        exif[0x013B] = artist  # Artist
        extra["exif"] = exif.tobytes()
    picture.save(out, "JPEG", quality=90, **extra)
    return out.getvalue()


def claims_for(sub: str = "sub-alice", username: str = "alice", groups: str | None = None) -> dict:
    """Claims as API Gateway's Cognito authorizer passes them to Lambda (strings)."""
    found = {"sub": sub, "cognito:username": username, "token_use": "id"}
    if groups is not None:
        found["cognito:groups"] = groups
    return found


def api_event(method: str, path: str, body=None, *, claims: dict | None = None, query: dict | None = None,
              path_parameters: dict | None = None, resource: str | None = None,
              headers: dict | None = None) -> dict:
    """An API Gateway REST proxy event."""
    context = {"resourcePath": resource or path, "httpMethod": method, "stage": "test"}
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "queryStringParameters": query,
        "pathParameters": path_parameters,
        "requestContext": context,
        "body": body if isinstance(body, str) or body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
