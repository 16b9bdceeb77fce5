"""infra/openapi.yaml is the one route table: every route has a handler that exists, every
handler a route and a Lambda function with the same handler, and Terraform renders it."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from tests.infra.hcl import OPENAPI, ROOT, operations, openapi, terraform, top_level_functions

SEED_ROUTES = {
    "GET /images": "images.api.images.list_images",
    "POST /images": "images.api.images.create_image",
    "PUT /images": "images.api.images.update_image",
    "DELETE /images": "images.api.images.delete_image",
    "GET /images/{key}/{value}": "images.api.images.search_images",
    "POST /images/uploads": "images.api.images.create_upload",  # presigned uploads for big files
    "GET /images/trash": "images.api.trash.list_trash",  # the trash and the history (issue 12)
    "POST /images/restore": "images.api.trash.restore_image",
    "POST /images/purge": "images.api.trash.purge_image",
    "GET /images/history/{id}": "images.api.trash.image_history",
    "POST /users": "accounts.api.create_user",
    "POST /users/token": "accounts.api.create_token",
}
UNSECURED = {"POST /users", "POST /users/token"}


def test_openapi_is_a_valid_openapi_3_document():
    document = openapi()
    assert document["openapi"].startswith("3.0")
    validate(document)


def test_every_seed_route_is_there_with_its_handler():
    assert {route: op["x-handler"] for route, op in operations().items()} == SEED_ROUTES


def test_operation_id_is_the_handler_function_name():
    for route, operation in operations().items():
        assert operation["operationId"] == operation["x-handler"].rsplit(".", 1)[1], route


def test_every_handler_exists_in_its_module():
    checked = 0
    for route, operation in operations().items():
        module, function = operation["x-handler"].rsplit(".", 1)
        base = ROOT / module.replace(".", "/")
        path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        assert module.split(".")[0] in {"images", "accounts"}, f"{route}: handlers live in the Django-free core"
        assert path.exists(), f"{route}: its handler module {module} ({path.relative_to(ROOT)}) is missing"
        assert function in top_level_functions(path), f"{route}: {module} has no {function}"
        checked += 1
    assert checked == len(SEED_ROUTES)


def test_every_lambda_function_is_a_route_with_the_same_handler_and_back():
    functions = terraform().locals["functions"]
    assert {spec["route"]: spec["handler"] for spec in functions.values()} == SEED_ROUTES
    for key, spec in functions.items():
        assert spec["handler"].rsplit(".", 1)[1] == key


def test_lambda_resources_use_the_route_table():
    function = terraform().resource("aws_lambda_function", "api")
    assert function["for_each"] == "${local.functions}"
    assert function["handler"] == "${each.value.handler}"
    assert terraform().literal(function["runtime"]) == "python3.12"
    permission = terraform().resource("aws_lambda_permission", "api")
    assert permission["for_each"] == "${local.functions}"
    assert "aws_api_gateway_rest_api.main.execution_arn" in permission["source_arn"]


def test_secured_routes_use_the_cognito_authorizer_and_users_routes_do_not():
    document = openapi()
    scheme = document["components"]["securitySchemes"]["CognitoUserPool"]
    authorizer = scheme["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "cognito_user_pools"
    assert authorizer["providerARNs"] == ["${cognito_user_pool_arn}"]
    assert document["security"] == [{"CognitoUserPool": []}]
    for route, operation in operations().items():
        if route in UNSECURED:
            assert operation["security"] == [], route
        else:
            assert operation.get("security", document["security"]) == [{"CognitoUserPool": []}], route


def test_every_operation_has_a_lambda_proxy_integration_of_its_own():
    uris = set()
    for route, operation in operations().items():
        integration = operation["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws_proxy", route
        assert integration["httpMethod"] == "POST", route
        assert integration["uri"] == "${%s_uri}" % operation["operationId"], route
        uris.add(integration["uri"])
    assert len(uris) == len(SEED_ROUTES)


def test_templatefile_gets_exactly_the_placeholders_of_the_file():
    raw = OPENAPI.read_text(encoding="utf-8")
    placeholders = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", raw))
    # templatefile() would choke on any other ${ or %{ sequence (in comments too).
    assert raw.count("${") == len(re.findall(r"\$\{[A-Za-z0-9_]+\}", raw))
    assert "%{" not in raw
    functions = terraform().locals["functions"]
    assert placeholders == {"cognito_user_pool_arn"} | {f"{key}_uri" for key in functions}
    body = terraform().locals["openapi_body"]
    assert 'templatefile("${path.module}/openapi.yaml"' in body
    assert "cognito_user_pool_arn = aws_cognito_user_pool.main.arn" in body
    assert 'for key, function in aws_lambda_function.api : "${key}_uri" => function.invoke_arn' in body
    api = terraform().resource("aws_api_gateway_rest_api", "main")
    assert api["body"] == "${local.openapi_body}"


def test_list_and_search_are_paginated_with_limit_cursor_and_link():
    document = openapi()
    limit = document["components"]["parameters"]["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 25)
    page = document["components"]["responses"]["ImagePage"]
    assert "Link" in page["headers"]
    for route in ("GET /images", "GET /images/{key}/{value}"):
        refs = {p.get("$ref") for p in operations()[route]["parameters"]}
        assert {"#/components/parameters/limit", "#/components/parameters/cursor"} <= refs
        assert operations()[route]["responses"]["200"] == {"$ref": "#/components/responses/ImagePage"}


def test_list_and_search_take_the_orders_the_catalog_knows():
    from images import catalog

    order = openapi()["components"]["parameters"]["order"]
    assert (order["in"], order.get("required", False)) == ("query", False)
    assert tuple(order["schema"]["enum"]) == catalog.ORDERS and order["schema"]["default"] == "newest"
    for route in ("GET /images", "GET /images/{key}/{value}"):
        assert "#/components/parameters/order" in {p.get("$ref") for p in operations()[route]["parameters"]}


def test_search_keys_are_the_seeds():
    (key,) = [p for p in operations()["GET /images/{key}/{value}"]["parameters"] if p.get("name") == "key"]
    assert set(key["schema"]["enum"]) == {
        "id", "title", "creator", "author", "keywords", "creationdate", "capture_date", "storage_date",
    }


def test_seed_bodies():
    schemas = openapi()["components"]["schemas"]
    assert set(schemas["CreateImageRequest"]["properties"]) == {
        "title", "description", "keywords", "author", "creator", "capture_date", "filename", "image_content",
        "upload_key",  # the file from POST /images/uploads instead of image_content
        "on_duplicate",  # keep (the seed's behaviour) or refuse a file already in the catalog
    }
    assert "image_content" not in schemas["CreateImageRequest"]["required"]  # or upload_key
    assert "upload_key" in schemas["UpdateImageRequest"]["properties"]
    assert set(schemas["CreateUploadResponse"]["required"]) == {
        "status", "msg", "upload_key", "url", "fields", "max_bytes", "expires_in",
    }
    assert set(schemas["UpdateImageRequest"]["properties"]) >= {
        "id", "title", "description", "keywords", "author", "creator", "capture_date", "filename", "image_content",
    }
    assert schemas["DeleteImageRequest"]["required"] == ["id"]
    assert set(schemas["Image"]["required"]) == {
        "id", "title", "description", "keywords", "author", "creator", "capture_date", "storage_date",
        "filename", "object_url",
    }
    assert set(schemas["CreateUserRequest"]["required"]) == {"username", "password", "email"}
    assert set(schemas["CreateTokenRequest"]["required"]) == {"username", "password"}
    assert schemas["StatusMsgFailure"]["properties"]["status"]["enum"] == ["fail"]
    assert schemas["StatusMessageFailure"]["properties"]["status"]["enum"] == ["ERROR"]
    assert schemas["UpdateImageResponse"]["properties"]["status"]["enum"] == ["OK"]
    assert set(schemas["TokenSuccess"]["required"]) == {"status", "id_token"}


def test_documented_error_statuses():
    statuses = {route: set(op["responses"]) for route, op in operations().items()}
    assert {"400", "401", "413"} <= statuses["POST /images"]
    assert {"400", "401", "403", "404", "409", "413"} <= statuses["PUT /images"]
    assert {"400", "401", "403", "404"} <= statuses["DELETE /images"]
    assert {"400", "401"} <= statuses["GET /images"]
    assert "400" in statuses["POST /users"]
