"""A search's criteria from query parameters, checked, as the API and the portal take them.
Django-free. The engine that answers them is images.catalog.query."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from images.catalog.base import DATE_PREFIX, InvalidField
from images.catalog.terms import exact, fold, words
from images.catalog.validation import parse_keywords
from images.limits import LIMITS, MAX_KEYWORDS, MAX_TITLE_WORDS

MAX_ANY_WORDS = 6  # words of the any-field search
# Query parameters of a combined search, shared by the API and the portal.
PARAMS = ("q", "title", "keywords", "author", "creator", "capture_date", "creationdate", "storage_date")
MAX_PARAM_LENGTH = LIMITS["title"]  # characters of one parameter (keys stay far under DynamoDB's limits)


@dataclass(frozen=True)
class Criteria:
    """What every image found must have; empty fields ask nothing."""

    q: tuple[str, ...] = ()  # any-field words
    title: tuple[str, ...] = ()  # title words
    keywords: tuple[str, ...] = ()
    author: str = ""
    creator: str = ""
    captured: str = ""  # YYYY, YYYY-MM or YYYY-MM-DD
    stored: str = ""

    def __post_init__(self) -> None:
        # Words as postings hold them, however the Criteria was made (criteria_from folds too).
        object.__setattr__(self, "q", tuple(fold(w) for w in self.q))
        object.__setattr__(self, "title", tuple(fold(w) for w in self.title))

    def __bool__(self) -> bool:
        return any((self.q, self.title, self.keywords, self.author, self.creator, self.captured, self.stored))

    def terms(self) -> list[str]:
        """The posting terms of the structured filters (the any-field words aside)."""
        found = [f"title:{w}" for w in self.title] + [f"keyword:{exact(k)}" for k in self.keywords]
        found += [f"author:{exact(self.author)}"] if self.author else []
        found += [f"creator:{exact(self.creator)}"] if self.creator else []
        found += [f"captured:{self.captured}"] if self.captured else []
        found += [f"stored:{self.stored}"] if self.stored else []
        return list(dict.fromkeys(found))


def _date(name: str, value: str) -> str:
    if value and not DATE_PREFIX.match(value):
        raise InvalidField(name, "Give a date as YYYY, YYYY-MM or YYYY-MM-DD.")
    if value:
        year, month, day = (value.split("-") + ["01", "01"])[:3]
        try:
            date(int(year), int(month), int(day))
        except ValueError as exc:
            raise InvalidField(name, f"{value} is not a date: give a real month (01-12) and day.") from exc
    return value


def _words(name: str, value: str, most: int) -> tuple[str, ...]:
    found = tuple(words(value))
    if value and not found:
        raise InvalidField(name, "Give at least one word.")
    if len(found) > most:
        raise InvalidField(name, f"Give at most {most} words.")
    return found


def criteria_from(params: Mapping[str, str]) -> Criteria:
    """Criteria from query parameters (PARAMS); InvalidField names a wrong one."""
    for name in PARAMS:
        if len(params.get(name) or "") > MAX_PARAM_LENGTH:
            raise InvalidField(name, f"{name} may have at most {MAX_PARAM_LENGTH} characters.")
    get = {name: (params.get(name) or "").strip() for name in PARAMS}
    if get["capture_date"] and get["creationdate"] and get["capture_date"] != get["creationdate"]:
        raise InvalidField("capture_date", "capture_date and creationdate are the same date; give one.")
    keywords = parse_keywords(get["keywords"])
    if len(keywords) > MAX_KEYWORDS:
        raise InvalidField("keywords", f"At most {MAX_KEYWORDS} keywords.")
    return Criteria(
        q=_words("q", get["q"], MAX_ANY_WORDS),
        title=_words("title", get["title"], MAX_TITLE_WORDS),
        keywords=keywords,
        author=get["author"],
        creator=get["creator"],
        captured=_date("capture_date", get["capture_date"] or get["creationdate"]),
        stored=_date("storage_date", get["storage_date"]),
    )
