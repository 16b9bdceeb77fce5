"""Schemathesis hooks for tests/e2e/test_api_fuzz.py (loaded through SCHEMATHESIS_HOOKS).

The one rule a schema cannot state is that image_content must be a real image: a random
base64 string never is, so no generated POST /images would register anything and the
stateful phase (which follows the links from POST /images to PUT, DELETE and search) would
never reach a real image. So in cases meant to be valid, a string image_content becomes a
small real PNG; invalid cases are left as they were generated.

And a generated Idempotency-Key is made unique per case: the fuzzer draws the same few keys
again and again, and a replayed key rightly answers the first request's image, which an
earlier scenario may have deleted since, so the stateful phase would report "created but not
available" for a reply that is correct. Replays are tested on purpose in
tests/images/test_integrity.py and tests/e2e/test_integrity_http.py."""

from __future__ import annotations

import base64
import uuid
from collections.abc import MutableMapping

import schemathesis

from tests.helpers import make_image

PNG = base64.b64encode(make_image("PNG", size=(8, 6))).decode()


@schemathesis.hook
def map_case(context, case):
    body = case.body
    mode = getattr(getattr(getattr(case, "meta", None), "generation", None), "mode", None)
    if (
        isinstance(body, dict)
        and isinstance(body.get("image_content"), str)
        and str(getattr(mode, "value", mode)) == "positive"
    ):
        case.body = {**body, "image_content": PNG}
    headers = getattr(case, "headers", None)
    if isinstance(headers, MutableMapping):
        for name in [n for n in headers if n.lower() == "idempotency-key"]:
            headers[name] = uuid.uuid4().hex
    return case
