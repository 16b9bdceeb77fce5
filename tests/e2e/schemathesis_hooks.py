"""Schemathesis hooks for tests/e2e/test_api_fuzz.py (loaded through SCHEMATHESIS_HOOKS).

The one rule a schema cannot state is that image_content must be a real image: a random
base64 string never is, so no generated POST /images would register anything and the
stateful phase (which follows the links from POST /images to PUT, DELETE and search) would
never reach a real image. So in cases meant to be valid, a string image_content becomes a
small real PNG; invalid cases are left as they were generated.

A generated Idempotency-Key is made unique per case: the fuzzer draws the same few keys
again and again, and a replayed key rightly answers the first request's image, which an
earlier scenario may have deleted since, so the stateful phase would report "created but not
available" for a reply that is correct. Replays are tested on purpose in
tests/images/test_integrity.py and tests/e2e/test_integrity_http.py.

And in the stateful phase, PUT and DELETE /images take their `id` from the link they follow,
never a generated one. Schemathesis sets each field of a link's request body only with a
probability (0.85 to start, by a true-random coin the seed does not fix) and otherwise keeps
the generated value: a random string, or an id from its pool of ids seen in earlier answers,
such as an image another scenario has deleted since. Its check ensure_resource_availability
(ST302) compares only the target's parameters with the link, and these routes have their id
in the body, so the 404 for that other id was reported as "the image just created is not
found". Without a generated id, a step the link did not fill is a 400 (id is required), and
a 404 after POST /images is about the image that POST created. Random and unknown ids are
still sent to these routes by the coverage and fuzzing phases."""

from __future__ import annotations

import base64
import uuid
from collections.abc import MutableMapping

import schemathesis

from tests.helpers import make_image

PNG = base64.b64encode(make_image("PNG", size=(8, 6))).decode()


def _value(enum) -> str:
    return str(getattr(enum, "value", enum))


@schemathesis.hook
def map_case(context, case):
    body = case.body
    meta = getattr(case, "meta", None)
    mode = getattr(getattr(meta, "generation", None), "mode", None)
    if (
        isinstance(body, dict)
        and isinstance(body.get("image_content"), str)
        and _value(mode) == "positive"
    ):
        case.body = body = {**body, "image_content": PNG}
    phase = getattr(getattr(meta, "phase", None), "name", None)
    if (
        _value(phase) == "stateful"
        and case.method.upper() in ("PUT", "DELETE")
        and case.path == "/images"
        and isinstance(body, dict)
        and "id" in body
    ):
        case.body = {name: value for name, value in body.items() if name != "id"}
    headers = getattr(case, "headers", None)
    if isinstance(headers, MutableMapping):
        for name in [n for n in headers if n.lower() == "idempotency-key"]:
            headers[name] = uuid.uuid4().hex
    return case
