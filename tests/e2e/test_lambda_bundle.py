"""The Lambda bundle as Lambda runs it, on the deployed Python: the code zip and the layer
built by scripts/bundle.py are unpacked read-only, and every handler Terraform deploys is
imported in a fresh `python3.12 -I -S -B` (no site-packages, no bytecode writes, only the
code and the layer's python/ on the path) and called with its event against the local stack.
Every module it loads from the bundle must come with its compiled bytecode (nothing is
compiled on a cold start). The import times are printed; scripts/cold_start.py measures
them for the README."""

from __future__ import annotations

import base64
import importlib.util
import sys

import pytest

from local.stack import ROOT
from tests.e2e.conftest import create_user
from tests.helpers import api_event, make_image

pytestmark = pytest.mark.e2e


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_script", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bundle, cold_start = _script("bundle"), _script("cold_start")


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    bundle.build_code(dist)
    bundle.build_layer(dist)
    place = tmp_path_factory.mktemp("lambda")
    yield cold_start.unpack(dist / "lambda-code.zip", dist / "lambda-layer.zip", place)
    cold_start.make_writable(place)


def test_every_handler_imports_from_the_bundle_and_answers(local_stack, unpacked):
    assert "%d.%d" % sys.version_info[:2] == bundle.LAYER_PYTHON  # the deployed Python
    code, layer = unpacked
    env = {**local_stack.env, "PATH": "/usr/bin:/bin"}
    sub = create_user(local_stack, "bundler", "Bundle-pass-1")
    claims = {"sub": sub, "cognito:username": "bundler", "token_use": "id"}
    reports = {}

    def call(handler, event):
        reports[handler] = cold_start.call(sys.executable, code, layer, handler, event, env)
        return reports[handler]["result"]

    def status(handler, *args, **kwargs):
        return call(handler, api_event(*args, **kwargs))["statusCode"]

    png = base64.b64encode(make_image("PNG", size=(200, 150))).decode()  # wide enough for a rendition
    assert status("accounts.api.create_user", "POST", "/users",
                  {"username": "bundled", "password": "Bundle-pass-1", "email": "bundled@example.com"}) == 201
    assert status("accounts.api.create_token", "POST", "/users/token",
                  {"username": "bundler", "password": "Bundle-pass-1"}) == 200
    assert status("images.api.images.create_upload", "POST", "/images/uploads", claims=claims) == 201
    created = call("images.api.images.create_image", api_event("POST", "/images", {
        "title": "Bundled", "author": "Ana", "keywords": "a,b", "image_content": png}, claims=claims))
    assert created["statusCode"] == 201, created
    image_id = __import__("json").loads(created["body"])["id"]
    rendition = __import__("json").loads(created["body"])["image"]["renditions"][0]["url"]
    path = "/" + rendition[rendition.index("renditions/"):]  # as CloudFront asks the function URL
    rendered = call("images.render.lambda_handler", {"rawPath": path, "requestContext": {"http": {"method": "GET"}}})
    assert rendered["statusCode"] == 200, rendered["headers"]
    assert status("images.api.images.list_images", "GET", "/images", claims=claims) == 200
    assert status("images.api.images.search_images", "GET", f"/images/id/{image_id}", claims=claims,
                  path_parameters={"key": "id", "value": image_id}, resource="/images/{key}/{value}") == 200
    assert status("images.api.images.update_image", "PUT", "/images", {"id": image_id, "title": "Renamed"},
                  claims=claims) == 200
    assert status("images.api.images.delete_image", "DELETE", "/images", {"id": image_id}, claims=claims) == 200
    assert status("images.api.trash.list_trash", "GET", "/images/trash", claims=claims) == 200
    assert status("images.api.trash.image_history", "GET", f"/images/history/{image_id}", claims=claims,
                  path_parameters={"id": image_id}, resource="/images/history/{id}") == 200
    assert status("images.api.trash.restore_image", "POST", "/images/restore", {"id": image_id}, claims=claims) == 200
    staff = {**claims, "cognito:groups": "[staff]"}
    assert status("images.api.images.delete_image", "DELETE", "/images", {"id": image_id}, claims=claims) == 200
    assert status("images.api.trash.purge_image", "POST", "/images/purge", {"id": image_id}, claims=staff) == 200
    assert isinstance(call("images.maintenance.lambda_handler", {"source": "aws.events"}), dict)
    sign_up = {"triggerSource": "PreSignUp_SignUp", "userName": "x", "request": {}, "response": {}}
    assert call("accounts.triggers.pre_sign_up", sign_up)["userName"] == "x"

    assert sorted(reports) == sorted(cold_start.handlers()), "every deployed handler is called"
    for handler, report in reports.items():
        assert report["uncompiled"] == [], f"{handler} compiled modules on its cold start"
        assert report["modules"] >= 3, handler  # it did load the bundle's modules
    print("\ncold import from the bundle (s):",
          ", ".join(f"{h} {r['import_seconds']:.2f}" for h, r in sorted(reports.items())))
