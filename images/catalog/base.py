"""The catalog's shared types and constants: who acts, validated metadata, a page, its errors.
Django-free."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from common.errors import Conflict, InvalidInput
from images.catalog.serialise import image_to_dict
from images.records import ImageRecord


DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
SEARCH_KEYS = ("id", "title", "creator", "author", "keywords", "creationdate", "capture_date", "storage_date")
ORDERS = ("newest", "oldest")
# A date or a date prefix as searches take it: YYYY, YYYY-MM or YYYY-MM-DD (ASCII digits only:
# \d would take other scripts' digits, and $ a trailing newline).
DATE_PREFIX = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?\Z")
ID = re.compile(r"^[0-9a-f]{32}$")


def is_full_date(text: str) -> bool:
    """Whether text is a whole date, YYYY-MM-DD, as DATE_PREFIX takes it (its one form of 10 characters)."""
    return len(text) == 10 and DATE_PREFIX.match(text) is not None


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
    """Someone else saved first; `current` is their version of the image. Both faces say so in
    these words: the portal shows that version, the API's 409 carries it (body_extra)."""

    def __init__(self, current: ImageRecord | None):
        if current is None:
            message = "Someone else changed or removed this image first; read it again."
        else:
            message = (f"Someone else changed this image after you read it; their version (version "
                       f"{current.version}) is shown. Try again from it if your change still makes sense.")
        super().__init__(message)
        self.current = current

    @property
    def body_extra(self) -> dict:
        """What the API adds to its 409 body: the image as it is now, and its version to send."""
        if self.current is None:
            return {}
        return {"image": image_to_dict(self.current), "version": self.current.version}


def now() -> datetime:
    return datetime.now(timezone.utc)


def can_change(actor: Actor, record: ImageRecord) -> bool:
    """Owners change their own images; staff change every image."""
    return actor.is_staff or actor.sub == record.owner_sub
