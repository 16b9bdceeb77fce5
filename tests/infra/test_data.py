"""The tables, bucket, CDN and user pool in Terraform agree with the code that uses them."""

from __future__ import annotations

import json

import pytest

from accounts import pool
from accounts.records import SessionRecord, SignInAttempts
from common.config import get_config
from images import objects
from images.export_jobs import EXPORTS_PREFIX
from images.records import ExportJob, IdempotencyRecord, ImageHistory, ImageRecord, ImageTerm
from tests.infra.expr import evaluate
from tests.infra.hcl import ROOT, environ_default, single, terraform
from tests.infra.iam import Model

CONFIG = ROOT / "common" / "config.py"
PITR_DAYS = 35  # DynamoDB's point-in-time recovery window

# model, Terraform table (its address), Terraform variable naming it otherwise, environment variable
TABLES = [
    (ImageRecord, "images", "images_table_name", "IMAGES_TABLE"),
    (ImageTerm, "image_terms", "image_terms_table_name", "IMAGE_TERMS_TABLE"),
    (SessionRecord, 'expiring["sessions"]', "sessions_table_name", "SESSIONS_TABLE"),
    (SignInAttempts, 'expiring["signin_attempts"]', "signin_attempts_table_name", "SIGNIN_ATTEMPTS_TABLE"),
    (ExportJob, 'expiring["exports"]', "exports_table_name", "EXPORTS_TABLE"),
    (ImageHistory, "image_history", "image_history_table_name", "HISTORY_TABLE"),
    (IdempotencyRecord, 'expiring["idempotency"]', "idempotency_table_name", "IDEMPOTENCY_TABLE"),
]


def names(**variables) -> dict[str, str]:
    """The stack's table names (local.table_names) and user pool's, for the default variables
    but those given."""
    tf = terraform()
    scope = {"var": {**{name: v.get("default") for name, v in tf.variables.items()}, **variables}}
    pool_name = tf.resource("aws_cognito_user_pool", "main")["name"]
    client_name = tf.resource("aws_cognito_user_pool_client", "portal")["name"]
    return {**evaluate(tf.locals["table_names"], scope), "pool": evaluate(pool_name, scope),
            "client": evaluate(client_name, scope)}


def table_name(resource: str, **variables) -> str:
    """The name of the table at `resource` (e.g. 'expiring["sessions"]')."""
    return names(**variables)[resource.removeprefix('expiring["').removesuffix('"]')]


def _keys(key_schema: list[dict]) -> dict[str, str]:
    return {k["KeyType"]: k["AttributeName"] for k in key_schema}


@pytest.mark.parametrize(("model", "resource", "variable", "env"), TABLES, ids=[t[1] for t in TABLES])
def test_table_matches_its_pynamodb_model(model, resource, variable, env):
    table = terraform().instances("aws_dynamodb_table")[resource]
    schema = model._get_schema()

    # Name: <project>-<table>, for the default project the code's default for the same env
    # var; the variable, when set, names it instead (the switch to a restored table).
    key = resource.removeprefix('expiring["').removesuffix('"]')
    assert table["name"] == f'${{local.table_names["{key}"]}}'
    assert table_name(resource) == environ_default(CONFIG, env)
    assert table_name(resource, project="second") == environ_default(CONFIG, env).replace("image-manager", "second")
    assert table_name(resource, project="second", **{variable: "restored"}) == "restored"
    assert terraform().locals["core_environment"][env] == f"${{aws_dynamodb_table.{resource}.name}}"

    keys = _keys(schema["key_schema"])
    assert table["hash_key"] == keys["HASH"]
    assert table.get("range_key") == keys.get("RANGE")

    defined = {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]}
    for index in schema["global_secondary_indexes"]:
        defined.update({a["AttributeName"]: a["AttributeType"] for a in index["attribute_definitions"]})
    assert {a["name"]: a["type"] for a in table["attribute"]} == defined

    indexes = {
        i["index_name"]: (_keys(i["key_schema"]), i["projection"]["ProjectionType"])
        for i in schema["global_secondary_indexes"]
    }
    declared = {
        i["name"]: ({"HASH": i["hash_key"], **({"RANGE": i["range_key"]} if "range_key" in i else {})}, i["projection_type"])
        for i in table.get("global_secondary_index", [])
    }
    assert declared == indexes
    assert not schema["local_secondary_indexes"] and "local_secondary_index" not in table

    ttl = model._ttl_attribute()
    if ttl is None:
        assert "ttl" not in table
    else:
        assert single(table["ttl"]) == {"attribute_name": ttl.attr_name, "enabled": True}

    assert single(table["point_in_time_recovery"])["enabled"] is True
    assert single(table["server_side_encryption"])["enabled"] is True
    assert table["deletion_protection_enabled"] == "${var.deletion_protection}"
    assert table["billing_mode"] == "${var.dynamodb_billing_mode}"


def test_tables_are_protected_and_on_demand_by_default():
    assert terraform().default("deletion_protection") is True
    assert terraform().default("dynamodb_billing_mode") == "PAY_PER_REQUEST"
    assert terraform().instances("aws_dynamodb_table").keys() == {resource for _, resource, *_ in TABLES}


def test_every_pynamodb_model_has_a_table():
    from accounts import records as account_records
    from images import records as image_records

    models = set(image_records.MODELS) | set(account_records.MODELS)
    assert models == {model for model, *_ in TABLES}


def test_every_bucket_blocks_public_access_and_acls():
    tf = terraform()
    buckets = set(tf.resources["aws_s3_bucket"])
    assert buckets == {"images", "logs", "artifacts"}
    # What every bucket has is written once (infra/buckets.tf), over every bucket.
    assert tf.locals["private_buckets"] == {name: f"${{aws_s3_bucket.{name}}}" for name in buckets}
    for kind in (
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_ownership_controls",
        "aws_s3_bucket_versioning",
        "aws_s3_bucket_server_side_encryption_configuration",
    ):
        assert set(tf.resources[kind]) == {"private"}, kind
        block = tf.resources[kind]["private"]
        assert block["for_each"] == "${local.private_buckets}" and block["bucket"] == "${each.value.id}", kind
    for kind in ("aws_s3_bucket_lifecycle_configuration", "aws_s3_bucket_policy"):
        assert set(tf.resources[kind]) == buckets, kind
    access = tf.resource("aws_s3_bucket_public_access_block", "private")
    for setting in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert access[setting] is True, setting
    assert single(tf.resource("aws_s3_bucket_ownership_controls", "private")["rule"])["object_ownership"] == \
        "BucketOwnerEnforced"
    versioning = single(tf.resource("aws_s3_bucket_versioning", "private")["versioning_configuration"])
    assert versioning["status"] == "Enabled"
    assert "aws_s3_bucket_acl" not in tf.resources
    # Every bucket policy starts from the one statement refusing plain HTTP.
    deny = single(tf.data["aws_iam_policy_document"]["deny_insecure_transport"]["statement"])
    assert deny["effect"] == "Deny" and single(deny["condition"])["values"] == ["false"]
    documents = tf.data["aws_iam_policy_document"]
    for name in buckets:
        policy = tf.resource("aws_s3_bucket_policy", name)["policy"]
        source = f"${{data.aws_iam_policy_document.deny_insecure_transport[\"{name}\"].json}}"
        own = policy.removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
        assert policy == source or documents[own]["source_policy_documents"] == [source], name


def test_image_bucket_lifecycle():
    rules = {r["id"]: r for r in terraform().resource("aws_s3_bucket_lifecycle_configuration", "images")["rule"]}
    uploads = rules["expire-unverified-uploads"]
    assert single(uploads["filter"])["prefix"] == objects.UPLOADS_PREFIX
    assert single(uploads["expiration"])["days"] == 1
    exports = rules["expire-exports"]
    assert single(exports["filter"])["prefix"] == EXPORTS_PREFIX and single(exports["expiration"])["days"] == 1
    for rule in (uploads, exports):  # nothing restores these: their old versions go a day later
        assert single(rule["noncurrent_version_expiration"])["noncurrent_days"] == 1, rule["id"]
    general = rules["noncurrent-versions-and-multipart"]
    assert single(general["filter"]) == {}
    assert single(general["noncurrent_version_expiration"])["noncurrent_days"] == \
        "${var.noncurrent_version_expiration_days}"
    # A restore to a minute (docs/deploy.md) reaches back as far as the tables' PITR: the
    # files' old versions must too, and no variable value may shorten them.
    assert terraform().default("noncurrent_version_expiration_days") >= PITR_DAYS
    validation = single(terraform().variables["noncurrent_version_expiration_days"]["validation"])
    assert validation["condition"] == f"${{var.noncurrent_version_expiration_days >= {PITR_DAYS}}}"
    # Delete markers left alone once their versions expired (uploads/, exports/) go too.
    assert single(general["expiration"]) == {"expired_object_delete_marker": True}
    assert single(general["abort_incomplete_multipart_upload"])["days_after_initiation"] == 1


def test_the_logs_bucket_can_be_destroyed_full():
    """Emptying the other buckets fills this one with access logs (delivered late): with
    deletion protection off, a destroy empties it itself (docs/deploy.md, "Tearing down")."""
    logs = terraform().resource("aws_s3_bucket", "logs")
    assert logs["force_destroy"] == "${!var.deletion_protection}"
    assert "force_destroy" not in terraform().resource("aws_s3_bucket", "images")


def test_only_cloudfront_reads_and_only_the_public_prefixes():
    policy = terraform().data["aws_iam_policy_document"]["images_bucket"]
    allows = [s for s in policy["statement"] if s.get("effect", "Allow") == "Allow"]
    (statement,) = allows
    assert statement["actions"] == ["s3:GetObject"]
    assert single(statement["principals"]) == {"type": "Service", "identifiers": ["cloudfront.amazonaws.com"]}
    assert single(statement["condition"])["values"] == ["${aws_cloudfront_distribution.images.arn}"]
    assert statement["resources"] == [f"${{aws_s3_bucket.images.arn}}/{prefix}*" for prefix in objects.PUBLIC_PREFIXES]


def test_cloudfront_uses_an_origin_access_control_and_nosniff():
    tf = terraform()
    distribution = tf.resource("aws_cloudfront_distribution", "images")
    origins = {o["origin_id"]: o for o in distribution["origin"]}
    origin = origins.pop("images-bucket")
    assert origin["origin_access_control_id"] == "${aws_cloudfront_origin_access_control.images.id}"
    assert "s3_origin_config" not in origin  # no legacy origin access identity
    # Renditions: the bucket, then on a miss the render function's URL, signed by its own OAC.
    assert origins.pop("render-function")["origin_access_control_id"] == "${aws_cloudfront_origin_access_control.render.id}"
    assert origins == {}
    group = single(distribution["origin_group"])
    assert [m["origin_id"] for m in group["member"]] == ["images-bucket", "render-function"]
    assert single(group["failover_criteria"])["status_codes"] == [403, 404]
    renditions = single(distribution["ordered_cache_behavior"])
    assert (renditions["path_pattern"], renditions["target_origin_id"]) == ("renditions/*", group["origin_id"])
    assert renditions["response_headers_policy_id"] == "${aws_cloudfront_response_headers_policy.images.id}"
    render_oac = tf.resource("aws_cloudfront_origin_access_control", "render")
    assert (render_oac["origin_access_control_origin_type"], render_oac["signing_behavior"]) == ("lambda", "always")
    assert tf.resource("aws_lambda_function_url", "render")["authorization_type"] == "AWS_IAM"
    behaviour = single(distribution["default_cache_behavior"])
    assert behaviour["viewer_protocol_policy"] == "redirect-to-https"
    assert behaviour["allowed_methods"] == ["GET", "HEAD"]
    assert behaviour["response_headers_policy_id"] == "${aws_cloudfront_response_headers_policy.images.id}"
    headers = single(tf.resource("aws_cloudfront_response_headers_policy", "images")["security_headers_config"])
    assert single(headers["content_type_options"])["override"] is True
    oac = tf.resource("aws_cloudfront_origin_access_control", "images")
    assert (oac["origin_access_control_origin_type"], oac["signing_behavior"]) == ("s3", "always")


def test_cloudfront_certificate_is_in_us_east_1():
    certificate = terraform().resource("aws_acm_certificate", "images")
    assert certificate["provider"] == "${aws.us_east_1}"
    assert certificate["validation_method"] == "DNS"


def test_images_base_url_is_the_cloudfront_domain():
    assert "aws_cloudfront_distribution.images.domain_name" in terraform().locals["images_base_url"]
    assert terraform().locals["core_environment"]["IMAGES_BASE_URL"] == "${local.images_base_url}"


def test_cors_allows_presigned_uploads_from_the_portal_only():
    rule = single(terraform().resource("aws_s3_bucket_cors_configuration", "images")["cors_rule"])
    assert set(rule["allowed_methods"]) == {"POST", "PUT"}  # presigned POST (images/objects.py) or PUT
    assert rule["allowed_origins"] == ["https://${local.portal_host}"]


def test_user_pool_matches_the_local_stack_definition():
    tf = terraform()
    user_pool = tf.resource("aws_cognito_user_pool", "main")
    assert names()["pool"] == pool.POOL_NAME
    assert user_pool["auto_verified_attributes"] == ["email"]
    assert "username_attributes" not in user_pool  # sign-in by username
    (email,) = [a for a in user_pool["schema"] if a["name"] == "email"]
    assert email["required"] is True
    policy = single(user_pool["password_policy"])
    assert {
        "MinimumLength": policy["minimum_length"],
        "RequireUppercase": policy["require_uppercase"],
        "RequireLowercase": policy["require_lowercase"],
        "RequireNumbers": policy["require_numbers"],
        "RequireSymbols": policy["require_symbols"],
        "TemporaryPasswordValidityDays": policy["temporary_password_validity_days"],
    } == pool.PASSWORD_POLICY

    client = tf.resource("aws_cognito_user_pool_client", "portal")
    assert names()["client"] == pool.PORTAL_CLIENT_NAME
    assert client["generate_secret"] is False
    assert client["explicit_auth_flows"] == pool.EXPLICIT_AUTH_FLOWS
    assert client["read_attributes"] == pool.READ_ATTRIBUTES
    assert client["write_attributes"] == pool.WRITE_ATTRIBUTES
    assert client["enable_token_revocation"] is True
    for validity in ("access_token_validity", "id_token_validity", "refresh_token_validity"):
        assert validity in client
    assert len(tf.resources["aws_cognito_user_pool_client"]) == 1


def test_two_projects_name_every_table_and_the_pool_apart():
    """Two stacks (two `project`s) fit one account: no table or pool name is shared."""
    first, second = names(), names(project="second")
    assert not set(first.values()) & set(second.values()), (first, second)
    assert all(name.startswith("second") for name in second.values()), second


def test_staff_group_name_is_the_codes_default():
    group = terraform().resource("aws_cognito_user_group", "staff")
    assert group["name"] == "${var.staff_group_name}"
    assert terraform().default("staff_group_name") == environ_default(CONFIG, "COGNITO_STAFF_GROUP")
    assert get_config().cognito_staff_group  # the code reads one


def test_lambda_permissions_are_per_function_and_scoped():
    """The shape of the roles; tests/infra/test_permissions.py checks them against the calls."""
    tf = terraform()
    functions = tf.locals["functions"]
    assert tf.resource("aws_iam_role", "lambda")["for_each"] == "${local.functions}"
    assert tf.resource("aws_iam_role_policy", "lambda")["for_each"] == "${local.functions}"
    tables = Model(get_config()).scope["local"].attr("table_arns")
    for key, spec in functions.items():
        assert set(spec["dynamodb"]) <= set(tables), key
        for prefix in spec["s3_read"] + spec["s3_put"] + spec["s3_delete"]:
            assert prefix in {objects.IMAGES_PREFIX, objects.THUMBNAILS_PREFIX, objects.UPLOADS_PREFIX, objects.TRASH_PREFIX,
                                  objects.RENDITIONS_PREFIX}
        if not key.endswith("_user"):
            assert spec["cognito"] == [], key
    # Readers never write; only the image functions touch S3.
    for key in ("list_images", "search_images"):
        spec = functions[key]
        writes = {a for actions in spec["dynamodb"].values() for a in actions} - {"GetItem", "BatchGetItem", "Query"}
        assert not writes and spec["s3_put"] == spec["s3_delete"] == [], key
    assert tables["images_by_created"] == tables["images"] + "/index/by_created"
    assert all(arn.startswith(f"arn:aws:dynamodb:{get_config().aws_region}:") for arn in tables.values())
    assert functions["create_user"]["cognito"] == []  # SignUp needs no IAM; the trigger confirms
    # Presigning needs the role's PutObject on uploads/ and nothing else; registering an
    # upload reads and deletes it, never writes there.
    upload = functions["create_upload"]
    assert upload["s3_put"] == [objects.UPLOADS_PREFIX]
    assert upload["s3_read"] == upload["s3_delete"] == [] and upload["dynamodb"] == {}
    for key in ("create_image", "update_image"):
        spec = functions[key]
        assert objects.UPLOADS_PREFIX in spec["s3_read"] and objects.UPLOADS_PREFIX in spec["s3_delete"], key
        assert objects.UPLOADS_PREFIX not in spec["s3_put"], key
    document = json.dumps(tf.data["aws_iam_policy_document"]["lambda"])
    assert '"*"' not in document


def test_the_functions_that_register_uploads_hold_one_at_the_limits():
    """create_image and update_image stream an upload (at most image_max_bytes) into /tmp and
    hold its decoded pixels (4 bytes each, at most image_max_pixels) in memory, inside API
    Gateway's 29 s; the other functions keep Lambda's default /tmp."""
    tf = terraform()
    model = Model(get_config(), tf)
    function = tf.resource("aws_lambda_function", "api")
    mib = 1 << 20
    for key, spec in evaluate("${local.functions}", model.scope).items():
        each = {**model.scope, "each": {"key": key, "value": spec}}
        storage = evaluate(single(function["ephemeral_storage"])["size"], each)
        if key in ("create_image", "update_image"):
            assert storage * mib >= tf.default("image_max_bytes") + 128 * mib, key
            assert spec["memory_size"] * mib >= 2 * 4 * tf.default("image_max_pixels"), key  # and as much again
            assert spec["timeout"] == 29, key
        else:
            assert storage == 512, key


def test_portal_instance_profile_touches_only_this_system():
    statements = terraform().data["aws_iam_policy_document"]["portal"]["statement"]
    for statement in statements:
        for resource in statement["resources"]:
            assert resource.startswith("${aws_"), (statement["sid"], resource)
    # The tables' statements: each on a table or index of this system (local.table_arns).
    (tables,) = [d["statement"] for d in terraform().data["aws_iam_policy_document"]["portal"]["dynamic"]]
    assert single(tables["content"])["resources"] == ["${local.table_arns[statement.key]}"]
    (pool_statement,) = [s for s in statements if s["sid"] == "UserPool"]
    # No page creates users: that is the operator's, with the AWS CLI (docs/deploy.md).
    assert {"cognito-idp:AdminUserGlobalSignOut", "cognito-idp:AdminDisableUser"} == set(pool_statement["actions"])
