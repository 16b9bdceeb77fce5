"""Someone else saved first: both faces say so in the catalog's words (ImageConflict), and the
API's 409 carries the image as it is now with the version to send, as its message promises."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from images import catalog
from images.api import images as api
from tests.helpers import api_event, claims_for
from tests.images.test_views import ALICE, create, messages_of, user

pytestmark = pytest.mark.django_db


def call(handler, method: str, body: dict) -> tuple[int, dict]:
    reply = handler(api_event(method, "/images", body, claims=claims_for(sub=ALICE.sub, username=ALICE.username)),
                    None)
    return reply["statusCode"], json.loads(reply["body"])


def theirs(record):
    """Another save of the image: its version is now record.version + 1."""
    return catalog.image_update(actor=ALICE, image_id=record.id, expected_version=record.version,
                                meta=catalog.validate_meta(title="Their title", description="", keywords="",
                                                           author="Them", capture_date=None))


@pytest.mark.parametrize("method, handler, text", [("PUT", api.update_image, "message"),
                                                   ("DELETE", api.delete_image, "msg")])
def test_the_api_409_carries_their_version(aws, method, handler, text):
    record = create()
    now = theirs(record)
    status, body = call(handler, method, {"id": record.id, "title": "Mine", "version": record.version})
    assert status == 409
    assert body["version"] == now.version == record.version + 1
    assert body["image"]["title"] == "Their title" and body["image"]["version"] == now.version
    assert body["image"]["id"] == record.id and body["image"]["object_url"]
    assert body[text] == catalog.ImageConflict(now).message and f"(version {now.version}) is shown" in body[text]
    assert catalog.image_get(image_id=record.id).title == "Their title"  # nothing changed


def test_the_portal_says_the_same_words(client, aws):
    client.force_login(user(ALICE))
    record = create()
    now = theirs(record)
    changed = client.post(reverse("images:change", args=[record.id]),
                          {"title": "My title", "author": "Me", "version": record.version})
    assert catalog.ImageConflict(now).message in messages_of(changed)
    deleted = client.post(reverse("images:delete", args=[record.id]), {"version": record.version}, follow=True)
    assert catalog.ImageConflict(now).message in messages_of(deleted)
    assert catalog.image_get(image_id=record.id).title == "Their title"
