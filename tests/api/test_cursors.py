"""Every kind of cursor sent to every route that takes one (issue 22): a cursor continues only
the query that made it (its fields, values and order); any other is the route's 400, never a
page of something else."""

from __future__ import annotations

import json

import pytest

from images.api import images as api
from images.api import trash as api_trash
from tests.helpers import api_event, b64, claims_for, make_image

ALICE = claims_for()


def call(handler, path, *, query=None, path_parameters=None, resource=None):
    reply = handler(api_event("GET", path, claims=ALICE, query=query, path_parameters=path_parameters,
                              resource=resource), None)
    return reply["statusCode"], json.loads(reply["body"]), reply["headers"]


@pytest.fixture
def routes(aws):
    """(name, a request that pages with limit=1, given a cursor) for every paginated route."""
    ids = []
    for n in range(5):
        body = {"title": f"Lake {n}", "author": "Ana", "keywords": "lake",
                "image_content": b64(make_image(color=(n, 10, 10)))}
        reply = api.create_image(api_event("POST", "/images", body, claims=ALICE), None)
        assert reply["statusCode"] == 201, reply["body"]
        ids.append(json.loads(reply["body"])["id"])
    edited = api.update_image(api_event("PUT", "/images", {"id": ids[0], "title": "Lake again"}, claims=ALICE), None)
    assert edited["statusCode"] == 200
    for image_id in ids[3:]:  # two in the trash, three listed
        assert api.delete_image(api_event("DELETE", "/images", {"id": image_id}, claims=ALICE), None)["statusCode"] == 200

    def page(handler, path, query=None, **kwargs):
        return lambda cursor=None: call(handler, path, query={**(query or {}), "limit": "1",
                                                              **({"cursor": cursor} if cursor else {})}, **kwargs)

    return {
        "list newest": page(api.list_images, "/images"),
        "list oldest": page(api.list_images, "/images", {"order": "oldest"}),
        "search by parameter": page(api.list_images, "/images", {"keywords": "lake"}),
        "search by route": page(api.search_images, "/images/keywords/lake", path_parameters={"key": "keywords",
                                "value": "lake"}, resource="/images/{key}/{value}"),
        "history": page(api_trash.image_history, f"/images/history/{ids[0]}", path_parameters={"id": ids[0]},
                        resource="/images/history/{id}"),
        "trash": page(api_trash.list_trash, "/images/trash"),
    }


# The two spellings of one search are one query (the same clauses and order, the same pages).
SAME_QUERY = {frozenset({"search by parameter", "search by route"})}


def test_a_cursor_continues_only_its_own_query(routes):
    cursors = {}
    for name, page in routes.items():
        status, _, headers = page()
        assert status == 200 and headers.get("X-Next-Cursor"), (name, headers)
        cursors[name] = headers["X-Next-Cursor"]
    for name, page in routes.items():
        for made_by, cursor in cursors.items():
            status, body, _ = page(cursor)
            if made_by == name or frozenset({made_by, name}) in SAME_QUERY:
                assert status == 200, (name, body)
            else:
                assert status == 400 and "cursor" in json.dumps(body), (f"{made_by} cursor to {name}", status, body)
