"""What the handlers of /images read from an API Gateway REST proxy event (who calls, the id
and version a body names, a page's limit and cursor) and the headers of a page's answer.
Django-free."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from common.claims import groups
from common.config import get_config
from common.errors import NotAuthenticated
from common.lambda_http import Event, claims
from images import catalog

_DIGITS = re.compile(r"[0-9]{1,9}")


def event_actor(event: Event) -> catalog.Actor:
    """Who calls, from the claims API Gateway's Cognito authorizer verified."""
    found = claims(event)
    if not found.get("sub"):
        raise NotAuthenticated()
    return catalog.Actor(
        sub=found["sub"],
        username=found.get("cognito:username") or found.get("username") or found["sub"],
        is_staff=get_config().cognito_staff_group in groups(found),
        face="api",
    )


def body_image_id(body: dict) -> str:
    """The id a JSON body names (a 400 when it names none)."""
    image_id = body.get("id")
    if not isinstance(image_id, str) or not image_id:
        raise catalog.InvalidField("id", "id is required.")
    return image_id


def body_version(body: dict) -> int | None:
    """The version a JSON body says its sender read (None when it sends none); a 400 unless a
    whole number (true and false are JSON's booleans, not 1 and 0)."""
    version = body.get("version")
    if "version" in body and (not isinstance(version, int) or isinstance(version, bool)):
        raise catalog.InvalidField("version", "version must be the whole number you read.")
    return version


def page_headers(event: Event, page: catalog.Page, limit: int, order: str,
                 filters: dict[str, str]) -> dict[str, str]:
    """Link (rel="next", the filters repeated) and X-Next-Cursor of a page that has a next one."""
    if not page.next_cursor:
        return {}
    context = event.get("requestContext") or {}
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    query = urlencode({**filters, "limit": limit, **({"order": order} if order != "newest" else {}),
                       "cursor": page.next_cursor})
    host = context.get("domainName") or headers.get("host")
    if host:
        stage = context.get("stage") or ""
        prefix = f"/{stage}" if stage and stage != "$default" else ""
        scheme = headers.get("x-forwarded-proto", "https")
        link = f"{scheme}://{host}{prefix}{event.get('path', '')}?{query}"
    else:
        link = f"?{query}"
    return {"Link": f'<{link}>; rel="next"', "X-Next-Cursor": page.next_cursor}


def query_page(event: Event) -> tuple[int, str | None]:
    """(limit, cursor) of a paginated request; as the spec says: digits for limit (empty is a 400)."""
    params = event.get("queryStringParameters") or {}
    if "limit" in params and not _DIGITS.fullmatch(params["limit"] or ""):
        raise catalog.InvalidField("limit", f"limit must be a whole number from 1 to {catalog.MAX_PAGE_SIZE}.")
    return catalog.page_size(params.get("limit")), params.get("cursor")
