"""Lambda handlers of the trash and the history: GET /images/trash, POST /images/restore,
POST /images/purge, GET /images/history/{id}. Django-free."""

from __future__ import annotations

from common.lambda_http import Event, Response, handler, json_body, response, status_msg
from images import catalog
from images.api.events import body_image_id, event_actor, page_headers, query_page

DELETED_FIELDS = ("deleted_at", "deleted_by")


@handler(status_msg)
def list_trash(event: Event) -> Response:
    """GET /images/trash: the caller's images in the trash (everyone's for staff), last deleted
    first, as image objects plus deleted_at and deleted_by, paginated like every list."""
    actor = event_actor(event)
    limit, cursor = query_page(event)
    page = catalog.image_trash_list(actor=actor, limit=limit, cursor=cursor)
    return response(200, [catalog.trashed_to_dict(r) for r in page.items], page_headers(event, page, limit, "newest", {}))


@handler(status_msg)
def restore_image(event: Event) -> Response:
    """POST /images/restore {"id"}: the image back from the trash, same id and metadata."""
    actor = event_actor(event)
    record = catalog.image_restore(actor=actor, image_id=body_image_id(json_body(event)))
    image = catalog.image_to_dict(record)
    return response(200, {"status": "success", "msg": "Image restored.", "id": record.id,
                          "object_url": image["object_url"], "image": image})


@handler(status_msg)
def purge_image(event: Event) -> Response:
    """POST /images/purge {"id"} (staff): the image out of the trash for good; its history stays."""
    actor = event_actor(event)
    if catalog.image_purge(actor=actor, image_id=body_image_id(json_body(event))):
        return response(200, {"status": "success", "msg": "Image purged."})
    return response(200, {"status": "success", "msg": "Image purged from the catalog; removing its file from "
                                                      "storage is still pending and will finish shortly."})


@handler(status_msg)
def image_history(event: Event) -> Response:
    """GET /images/history/{id}: every change of an image, oldest first, paginated."""
    actor = event_actor(event)
    image_id = (event.get("pathParameters") or {}).get("id", "")
    limit, cursor = query_page(event)
    page = catalog.history_page(actor=actor, image_id=image_id, limit=limit, cursor=cursor)
    return response(200, page.items, page_headers(event, page, limit, "newest", {}))
