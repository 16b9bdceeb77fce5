"""infra/maintenance.tf: the scheduled sweep is a function of the same code and layer as the
API, on a schedule EventBridge may invoke, with a role of exactly the calls the sweep makes."""

from __future__ import annotations

import json

from images.sweep import SWEPT_PREFIXES
from tests.infra.hcl import ROOT, single, terraform, top_level_functions

HANDLER = "images.maintenance.lambda_handler"


def statements() -> dict[str, dict]:
    document = terraform().data["aws_iam_policy_document"]["maintenance"]
    return {s["sid"]: s for s in document["statement"]}


def test_the_function_runs_the_handler_from_the_api_code_and_layer():
    tf = terraform()
    function = tf.resource("aws_lambda_function", "maintenance")
    api = tf.resource("aws_lambda_function", "api")
    assert function["handler"] == HANDLER
    module, name = HANDLER.rsplit(".", 1)
    assert name in top_level_functions(ROOT / (module.replace(".", "/") + ".py"))
    for same in ("runtime", "architectures", "filename", "source_code_hash", "layers", "kms_key_arn"):
        assert function[same] == api[same], same
    assert tf.default("lambda_runtime") == "python3.12"
    assert function["role"] == "${aws_iam_role.maintenance.arn}"
    assert single(function["tracing_config"])["mode"] == "${var.lambda_tracing_mode}"
    # Sized for a scan of the whole table, and variables to change it.
    assert function["timeout"] == "${var.maintenance_timeout}" and tf.default("maintenance_timeout") == 900
    assert function["memory_size"] == "${var.maintenance_memory_size}"
    assert tf.default("maintenance_memory_size") >= 512


def test_its_log_group_is_its_own_with_retention():
    tf = terraform()
    group = tf.resource("aws_cloudwatch_log_group", "maintenance")
    assert group["name"] == "/aws/lambda/${local.maintenance_function_name}"
    assert group["retention_in_days"] == "${var.log_retention_days}"
    function = tf.resource("aws_lambda_function", "maintenance")
    assert single(function["logging_config"])["log_group"] == "${aws_cloudwatch_log_group.maintenance.name}"
    assert statements()["OwnLogGroup"]["resources"] == ["${aws_cloudwatch_log_group.maintenance.arn}:*"]


def test_a_schedule_invokes_it_and_only_that_rule_may():
    tf = terraform()
    rule = tf.resource("aws_cloudwatch_event_rule", "maintenance")
    assert rule["schedule_expression"] == "${var.maintenance_schedule}"
    assert tf.default("maintenance_schedule") == "rate(1 day)"
    target = tf.resource("aws_cloudwatch_event_target", "maintenance")
    assert target["rule"] == "${aws_cloudwatch_event_rule.maintenance.name}"
    assert target["arn"] == "${aws_lambda_function.maintenance.arn}"
    permission = tf.resource("aws_lambda_permission", "maintenance")
    assert permission["principal"] == "events.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["function_name"] == "${aws_lambda_function.maintenance.function_name}"
    assert permission["source_arn"] == "${aws_cloudwatch_event_rule.maintenance.arn}"


def test_the_role_allows_exactly_the_sweeps_calls():
    found = statements()
    table_actions = {
        sid: (set(s["actions"]), tuple(s["resources"])) for sid, s in found.items() if s["actions"][0].startswith("dynamodb:")
    }
    # ImageRecord.scan; ImageTerm.query + the conditional recount, the cleanups' query and
    # delete; the retention purge of expired trash (record, postings, a history entry with a
    # cleanup item, in one transaction). tests/infra/test_permissions.py runs the sweep against it.
    assert table_actions == {
        "ScanImages": ({"dynamodb:Scan"}, ("${aws_dynamodb_table.images.arn}",)),
        "RecountFacetsAndFinishCleanups": ({"dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                                            "dynamodb:PutItem"}, ("${aws_dynamodb_table.image_terms.arn}",)),
        "PurgeExpiredTrash": ({"dynamodb:GetItem", "dynamodb:DeleteItem"}, ("${aws_dynamodb_table.images.arn}",)),
        "PurgeHistoryEntries": ({"dynamodb:PutItem", "dynamodb:GetItem"},
                                ("${aws_dynamodb_table.image_history.arn}",)),
    }
    bucket = "${aws_s3_bucket.images.arn}"
    object_actions = {
        action: {r.removeprefix(bucket + "/") for r in s["resources"]}
        for s in found.values() for action in s["actions"] if action.startswith("s3:")
    }
    assert object_actions == {
        "s3:ListBucket": {bucket},
        "s3:DeleteObject": {"images/*", "thumbnails/*", "uploads/*", "trash/*", "renditions/*"},
    }
    # Every prefix the sweep lists, and nothing else, is deleted under; it never reads or writes objects.
    assert object_actions["s3:DeleteObject"] == {p + "*" for p in SWEPT_PREFIXES}
    assert found["InvalidateImageCache"]["actions"] == ["cloudfront:CreateInvalidation"]
    assert found["InvalidateImageCache"]["resources"] == ["${aws_cloudfront_distribution.images.arn}"]
    # No Cognito, no index, no wildcard resource.
    document = json.dumps(terraform().data["aws_iam_policy_document"]["maintenance"])
    assert "cognito" not in document and "/index/" not in document and '"*"' not in document
    # The tables' key through DynamoDB only, from the one shared document; no kms:Decrypt for
    # the environment (Lambda decrypts it through its own grant).
    document = terraform().data["aws_iam_policy_document"]["maintenance"]
    assert document["source_policy_documents"] == ["${data.aws_iam_policy_document.kms_via_dynamodb.json}"]
    assert "DecryptOwnEnvironment" not in found


def test_the_function_name_is_an_output():
    assert terraform().outputs["maintenance_function_name"]["value"] == "${aws_lambda_function.maintenance.function_name}"
