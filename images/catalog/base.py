"""The catalog's shared types and constants: who acts, validated metadata, a page, its errors.
Django-free."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from common.errors import Conflict, InvalidInput
from images.records import ImageRecord


DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
SEARCH_KEYS = ("id", "title", "creator", "author", "keywords", "creationdate", "capture_date", "storage_date")
ORDERS = ("newest", "oldest")
# A date or a date prefix as searches take it: YYYY, YYYY-MM or YYYY-MM-DD.
DATE_PREFIX = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Actor:
    """Who acts: from a verified token or the portal's session, never from a request body."""

    sub: str
    username: str
    is_staff: bool = False
    # Which face acts (portal, api, sweep): recorded in the image's history.
    face: str = "api"


@dataclass(frozen=True)
class ImageMeta:
    """Validated metadata of an image."""

    title: str
    description: str
    keywords: tuple[str, ...]
    author: str
    capture_date: str | None


@dataclass(frozen=True)
class Page:
    """One page of images and the cursor of the next (None on the last page)."""

    items: list[ImageRecord]
    next_cursor: str | None


class InvalidField(InvalidInput):
    """A metadata field is missing or wrong; `field` names it for forms."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class ImageConflict(Conflict):
    """Someone else saved first; `current` is their version of the image."""

    def __init__(self, current: ImageRecord | None):
        super().__init__("Someone else changed this image after you opened it. Their version is shown; "
                         "apply your changes again if they still make sense.")
        self.current = current


def now() -> datetime:
    return datetime.now(timezone.utc)


def can_change(actor: Actor, record: ImageRecord) -> bool:
    """Owners change their own images; staff change every image."""
    return actor.is_staff or actor.sub == record.owner_sub
