"""Lambda handlers of /images and /images/{key}/{value}: API Gateway REST proxy events in,
proxy responses out, with the seed's bodies and real HTTP status codes. Django-free."""

from __future__ import annotations

import base64
import binascii
import logging

from common.errors import AppError, TooLarge
from common.transient import is_transient
from common.lambda_http import Event, Response, handler, json_body, response, status_msg
from images import catalog
from images.api.events import body_image_id, body_version, event_actor, page_headers, query_page
from images.catalog import idempotency
from images.catalog.base import is_full_date

log = logging.getLogger(__name__)

# A synchronous Lambda takes at most 6 MB of request (API Gateway 10 MB): base64 makes an
# image a third bigger, so an image of more than about 4.4 MB cannot come this way.
MAX_REQUEST_BYTES = 6 * 1024 * 1024 - 16 * 1024
FIELDS = ("title", "description", "keywords", "author", "capture_date")


def _body(event: Event) -> dict:
    if len(event.get("body") or "") > MAX_REQUEST_BYTES:
        raise TooLarge(
            "The request is larger than the API's 6 MB limit: send images of at most about 4.4 MB "
            "(base64 adds a third), or send bigger files through POST /images/uploads and upload_key."
        )
    return json_body(event)


def _wire_fields(body: dict, names: tuple[str, ...]) -> dict:
    """The metadata fields the body sends, held to the rules infra/openapi.yaml states for the
    raw JSON (strings only, lengths as sent, the keyword pattern) before the catalog trims and
    normalises them: what the spec calls invalid is a 400, never a 500 nor silently accepted."""
    found = {name: body[name] for name in (*names, "filename", "creator") if name in body}
    for name, value in found.items():
        if not isinstance(value, str):
            raise catalog.InvalidField(name, f"{name} must be a string.")
        if name in ("title", "description", "author") and len(value) > catalog.LIMITS[name]:
            raise catalog.InvalidField(name, f"{name} may have at most {catalog.LIMITS[name]} characters.")
    parts = found.get("keywords", "").split(",")
    if len(parts) > catalog.MAX_KEYWORDS or any(len(part) > catalog.LIMITS["keyword"] for part in parts):
        raise catalog.InvalidField(
            "keywords", f"keywords: at most {catalog.MAX_KEYWORDS} comma-separated keywords of at most "
                        f"{catalog.LIMITS['keyword']} characters each.")
    if found.get("capture_date") and not is_full_date(found["capture_date"]):
        raise catalog.InvalidField("capture_date", "Give the date as YYYY-MM-DD, for example 2024-05-17.")
    for name in ("image_content", "upload_key"):  # null means not sent (the spec: nullable)
        if body.get(name) is not None and not isinstance(body[name], str):
            raise catalog.InvalidField(name, f"{name} must be a string.")
    return {name: found[name] for name in names if name in found}


def _content(body: dict) -> bytes | None:
    raw = body.get("image_content")
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise catalog.InvalidField("image_content", "image_content must be the file as a base64 string.")
    if raw.startswith("data:") and "," in raw:  # tolerate a data: URL
        raw = raw.split(",", 1)[1]
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise catalog.InvalidField("image_content", "image_content is not valid base64.") from exc


def _file(body: dict) -> tuple[bytes | None, str | None]:
    """(base64-decoded image_content, None) or (None, upload_key); never both."""
    upload_key = body.get("upload_key")
    if upload_key in (None, ""):
        return _content(body), None
    if body.get("image_content") not in (None, ""):
        raise catalog.InvalidField("upload_key", "Send either image_content or upload_key, not both.")
    if not isinstance(upload_key, str):
        raise catalog.InvalidField("upload_key", "upload_key must be the key from POST /images/uploads.")
    return None, upload_key


def _list_response(event: Event, run) -> Response:
    params = event.get("queryStringParameters") or {}
    # As the spec says: digits for limit, newest or oldest for order; present but empty is a 400.
    limit, cursor = query_page(event)
    if "order" in params and params["order"] not in catalog.ORDERS:
        raise catalog.InvalidField("order", "order must be newest or oldest.")
    order = catalog.parse_order(params.get("order"))
    page = run(limit=limit, cursor=cursor, order=order)
    # The next page's link repeats the filters: its cursor is bound to them.
    filters = {name: params[name] for name in catalog.QUERY_PARAMS if params.get(name)}
    return response(200, [catalog.image_to_dict(r) for r in page.items],
                    page_headers(event, page, limit, order, filters))


@handler(status_msg)
def list_images(event: Event) -> Response:
    """GET /images: every image, newest first (or ?order=oldest), paginated by cursor; with
    ?q= (words of any field) and the filters title, keywords, author, creator, capture_date
    (or creationdate) and storage_date, only the images that have all of them."""
    params = event.get("queryStringParameters") or {}
    for name in ("capture_date", "creationdate", "storage_date"):
        if name in params and not params[name]:  # as the spec says: present but empty is a 400
            raise catalog.InvalidField(name, f"{name} must be YYYY, YYYY-MM or YYYY-MM-DD.")
    criteria = catalog.criteria_from(params)
    if not criteria:
        return _list_response(event, catalog.image_list)
    return _list_response(event, lambda **page: catalog.image_find(criteria=criteria, **page))


@handler(status_msg)
def search_images(event: Event) -> Response:
    """GET /images/{key}/{value}: the images matching one seed search key, newest or oldest first."""
    path = event.get("pathParameters") or {}
    key, value = path.get("key", ""), path.get("value", "")
    return _list_response(event, lambda **page: catalog.image_search(key=key, value=value, **page))


@handler(status_msg)
def create_upload(event: Event) -> Response:
    """POST /images/uploads: a presigned POST form to put one file straight into S3 (never
    through Lambda, so up to the catalog's byte limit rather than the 6 MB payload limit);
    then register it with POST /images and the answered upload_key instead of image_content."""
    actor = event_actor(event)
    upload = catalog.upload_start(actor)
    return response(
        201,
        {
            "status": "success",
            "msg": "POST the fields, then the file as the last field named \"file\", to url; then register "
                   "the image with POST /images and upload_key.",
            "upload_key": upload.key,
            "url": upload.url,
            "fields": upload.fields,
            "max_bytes": upload.max_bytes,
            "expires_in": upload.expires_in,
        },
    )


def _header(event: Event, name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in (event.get("headers") or {}).items() if k.lower() == wanted), None)


@handler(status_msg)
def create_image(event: Event) -> Response:
    """POST /images: register an image (creator = the signed-in user, whatever the body says).
    The file comes either as image_content (base64) or as upload_key (from POST /images/uploads).
    With an Idempotency-Key header, a retry with the same key and body gets the first answer."""
    actor = event_actor(event)
    body = _body(event)
    key = _header(event, "Idempotency-Key")
    if key is None:
        return _create(actor, body)
    # The id comes from the key too: a retry after a crash that lost the stored answer (the
    # key is released IN_PROGRESS_SECONDS later) answers the image, never makes a second.
    image_id = catalog.request_image_id("create_image", actor.sub, idempotency.check_key(key))
    return idempotency.once(scope=actor.sub, operation="create_image", key=key, payload=body,
                            run=lambda: _create(actor, body, image_id))


def _on_duplicate(body: dict) -> str:
    """What to do when the file is already in the catalog: "keep" (store it too: the seed's
    behaviour, the default) or "refuse" (409 with duplicate_of, nothing stored)."""
    if "on_duplicate" not in body:
        return "keep"
    value = body["on_duplicate"]
    if isinstance(value, str) and value in ("keep", "refuse"):  # null is not absent: the spec says string
        return value
    raise catalog.InvalidField("on_duplicate", 'on_duplicate must be "keep" or "refuse".')


_UNCHECKED = " Whether it duplicates another image could not be checked just now."


def _duplicate_of(record, actor: catalog.Actor) -> tuple[dict | None, str]:
    """(the stored image with the same content, or None; a note for msg). Read after the
    commit: when that read fails, the change is in all the same, so it is answered as done
    (a 503 would invite a retry that stores the image twice), saying the check was skipped."""
    try:
        match = catalog.duplicate_of(record, viewer=actor)
    except Exception as exc:
        if not is_transient(exc):
            raise
        log.warning("duplicate check after the commit of image %s failed: %r", record.id, exc)
        return None, _UNCHECKED
    return (match.to_dict() if match else None), ""


def _create(actor: catalog.Actor, body: dict, image_id: str | None = None) -> Response:
    meta = catalog.validate_meta(**{**dict.fromkeys(FIELDS), **_wire_fields(body, FIELDS)})
    data, upload_key = _file(body)
    filename = body.get("filename", "")
    on_duplicate = _on_duplicate(body)
    if upload_key is not None:
        record = catalog.image_create_from_upload(owner=actor, meta=meta, upload_key=upload_key,
                                                  original_filename=filename, on_duplicate=on_duplicate)
    elif data is None:
        raise catalog.InvalidField(
            "image_content", "image_content (the file, base64) or upload_key (from POST /images/uploads) is required."
        )
    else:
        record = catalog.image_create(owner=actor, meta=meta, data=data, original_filename=filename,
                                      on_duplicate=on_duplicate, image_id=image_id)
    image = catalog.image_to_dict(record)
    duplicate, note = _duplicate_of(record, actor)
    return response(
        201,
        {"status": "success", "msg": "Image registered." + note, "id": record.id, "object_url": image["object_url"],
         "image": image, "duplicate_of": duplicate},
    )


def _ok_error(exc: AppError) -> dict:
    return {"status": "ERROR", "message": exc.message, **(getattr(exc, "body_extra", None) or {})}


@handler(_ok_error)
def update_image(event: Event) -> Response:
    """PUT /images: change an image's metadata and, with image_content or upload_key, its file.
    Fields left out keep their values (the seed's clients send them all); the merge happens in
    the catalog, conditional on the version it read, so nobody's change is silently undone."""
    actor = event_actor(event)
    body = _body(event)
    image_id = body_image_id(body)
    changes = _wire_fields(body, FIELDS)  # fields left out keep their values (merged in the catalog)
    version = body_version(body)
    filename = body.get("filename")
    data, upload_key = _file(body)
    on_duplicate = _on_duplicate(body)
    if upload_key is not None:
        record = catalog.image_edit_from_upload(
            actor=actor, image_id=image_id, changes=changes, expected_version=version,
            upload_key=upload_key, original_filename=filename, on_duplicate=on_duplicate,
        )
    else:
        record = catalog.image_edit(
            actor=actor, image_id=image_id, changes=changes, expected_version=version,
            data=data, original_filename=filename, on_duplicate=on_duplicate,
        )
    answer = {"status": "OK", "message": "Image updated.", "image": catalog.image_to_dict(record)}
    if data is not None or upload_key is not None:  # a file was sent: say whether it is a duplicate
        answer["duplicate_of"], note = _duplicate_of(record, actor)
        answer["message"] += note
    return response(200, answer)


@handler(status_msg)
def delete_image(event: Event) -> Response:
    """DELETE /images: move an image to the trash (its owner or staff); POST /images/restore brings it back."""
    actor = event_actor(event)
    body = json_body(event)
    image_id = body_image_id(body)
    version = body_version(body)
    if catalog.image_delete(actor=actor, image_id=image_id, expected_version=version):
        return response(200, {"status": "success", "msg": "Image deleted."})
    return response(200, {"status": "success", "msg": "Image deleted from the catalog; removing its file from "
                                                      "storage is still pending and will finish shortly."})
