"""infra/alarms.tf: every Lambda function has an errors alarm, every alarm notifies the alarm
topic, and the sweep's metric filter matches the line images/maintenance.py really logs."""

from __future__ import annotations

import logging
import re
from types import SimpleNamespace
from unittest import mock

import pytest

from images import maintenance
from images.sweep import SweepReport
from tests.infra.hcl import single, terraform

TOPIC = "${aws_sns_topic.alarms.arn}"

# What a CloudWatch Logs regex filter pattern may contain (the "Supported regular expressions
# (regex) syntax" page): alphanumerics, the symbols : _ # = @ / ; , - and the operators
# ^ $ ? [ ] { } | \ * + . (no parentheses, no double quote).
CLOUDWATCH_REGEX = re.compile(r"%([A-Za-z0-9:_#=@/;,\-^$?\[\]{}|\\*+.]+)%")


def alarms() -> dict[str, dict]:
    return terraform().resources["aws_cloudwatch_metric_alarm"]


def test_every_lambda_function_has_an_errors_alarm():
    tf = terraform()
    functions = tf.resources["aws_lambda_function"]
    covered = {}
    for name, alarm in alarms().items():
        if alarm.get("namespace") == "AWS/Lambda" and alarm.get("metric_name") == "Errors":
            match = re.fullmatch(r"\$\{aws_lambda_function\.([a-z_]+)(\[each\.key\]|\[0\])?\.function_name\}",
                                 alarm["dimensions"]["FunctionName"])
            assert match, alarm["dimensions"]
            covered[match.group(1)] = (alarm, match.group(2) == "[each.key]")
            # A function made with count (the optional PreSignUp trigger) has its alarm with it.
            assert (match.group(2) == "[0]") == ("count" in functions[match.group(1)]), name
            assert alarm.get("count") == functions[match.group(1)].get("count"), name
    assert covered.keys() == functions.keys(), "a Lambda function without an errors alarm"
    for function, (alarm, per_key) in covered.items():
        # A for_each function needs an alarm over the same map, one per instance.
        assert (functions[function].get("for_each") is not None) == per_key, function
        if per_key:
            assert alarm["for_each"] == functions[function]["for_each"] == "${local.functions}"
        assert alarm["statistic"] == "Sum" and alarm["period"] == 300 and alarm["evaluation_periods"] == 1
        assert alarm["comparison_operator"] == "GreaterThanThreshold" and alarm["threshold"] == 0


def test_every_alarm_notifies_the_topic_and_missing_data_is_not_breaching():
    assert len(alarms()) >= 5
    for name, alarm in alarms().items():
        assert alarm["alarm_actions"] == [TOPIC], name
        assert alarm.get("actions_enabled", True) is True, name
        assert alarm["treat_missing_data"] == "notBreaching", name


def test_api_stage_5xx_alarm():
    alarm = alarms()["api_5xx"]
    assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/ApiGateway", "5XXError")
    assert alarm["dimensions"] == {"ApiName": "${aws_api_gateway_rest_api.main.name}",
                                   "Stage": "${aws_api_gateway_stage.main.stage_name}"}
    assert alarm["period"] == 300 and alarm["threshold"] == 0


def test_portal_health_alarm_is_degraded_or_worse():
    tf = terraform()
    alarm = alarms()["portal_health"]
    assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/ElasticBeanstalk", "EnvironmentHealth")
    assert alarm["comparison_operator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["threshold"] == "${local.environment_health_degraded}"
    assert tf.locals["environment_health_degraded"] == 20  # Degraded (25 Severe; 15 Warning is left out)
    # The metric exists only with enhanced health.
    settings = tf.resource("aws_elastic_beanstalk_environment", "portal")["setting"]
    assert {"namespace": "aws:elasticbeanstalk:healthreporting:system", "name": "SystemType",
            "value": "enhanced"} in settings


def test_topic_is_encrypted_with_the_system_key_and_cloudwatch_may_use_it():
    tf = terraform()
    topic = tf.resource("aws_sns_topic", "alarms")
    assert topic["kms_master_key_id"] == "${aws_kms_key.main.arn}"
    statements = {s["sid"]: s for s in tf.data["aws_iam_policy_document"]["kms"]["statement"]}
    statement = statements["CloudWatchAlarmsPublishToAlarmTopic"]
    assert single(statement["principals"])["identifiers"] == ["cloudwatch.amazonaws.com"]
    assert set(statement["actions"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert single(statement["condition"])["values"] == [TOPIC]
    # The email subscription exists only when alarm_email is set.
    subscription = tf.resource("aws_sns_topic_subscription", "alarm_email")
    assert subscription["count"] == '${var.alarm_email == "" ? 0 : 1}'
    assert tf.default("alarm_email") == ""
    assert tf.outputs["alarm_topic_arn"]["value"] == TOPIC


# ---------------------------------------------------------------------------------------
# The sweep's needs_attention line
# ---------------------------------------------------------------------------------------

def sweep_pattern() -> str:
    tf = terraform()
    metric_filter = tf.resource("aws_cloudwatch_log_metric_filter", "sweep_needs_attention")
    assert metric_filter["log_group_name"] == "${aws_cloudwatch_log_group.maintenance.name}"
    assert metric_filter["pattern"] == "${local.sweep_attention_pattern}"
    alarm = alarms()["sweep_needs_attention"]
    transformation = single(metric_filter["metric_transformation"])
    assert alarm["metric_name"].endswith(".metric_transformation[0].name}") and transformation["name"]
    return tf.locals["sweep_attention_pattern"]


def logged_line(monkeypatch, report: SweepReport, *, repair: bool) -> str:
    """Run images.maintenance.run() on a given report and return the event as Lambda's text
    log format writes it ("[LEVEL]\\t<time>\\t<request id>\\t<message>\\n")."""
    monkeypatch.setattr(maintenance, "get_config",
                        lambda: SimpleNamespace(sweep_repair=repair, sweep_grace_minutes=60,
                                                trash_retention_days=30))
    monkeypatch.setattr(maintenance, "sweep", lambda **_: report)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    maintenance.log.addHandler(handler)
    try:
        maintenance.run()
    finally:
        maintenance.log.removeHandler(handler)
    (record,) = records
    return (f"[{record.levelname}]\t2025-01-01T03:00:00.000Z\t"
            f"8f3c1e9a-0000-4000-8000-000000000000\t{record.getMessage()}\n")


def cloudwatch_regex(pattern: str) -> re.Pattern:
    match = CLOUDWATCH_REGEX.fullmatch(pattern)
    assert match, f"not a CloudWatch Logs regex filter pattern: {pattern!r}"
    return re.compile(match.group(1))


@pytest.mark.parametrize("report, repair", [
    (SweepReport(missing_files=[("img-1", "images/img-1.jpg")]), True),
    (SweepReport(failures=["DeleteObjects: AccessDenied"]), True),
    (SweepReport(orphan_objects=["images/orphan.jpg"]), False),
])
def test_the_filter_matches_the_needs_attention_line(monkeypatch, report, repair):
    line = logged_line(monkeypatch, report, repair=repair)
    assert line.startswith("[WARNING]\t") and '"needs_attention":true' in line
    assert cloudwatch_regex(sweep_pattern()).search(line), line


@pytest.mark.parametrize("report, repair", [
    (SweepReport(), True),
    (SweepReport(orphan_objects=["images/orphan.jpg"], deleted=["images/orphan.jpg"]), True),
])
def test_the_filter_ignores_a_run_that_needs_nothing(monkeypatch, report, repair):
    line = logged_line(monkeypatch, report, repair=repair)
    assert '"needs_attention":false' in line
    assert not cloudwatch_regex(sweep_pattern()).search(line), line


# ---------------------------------------------------------------------------------------
# A cleanup left pending
# ---------------------------------------------------------------------------------------

def test_the_cleanup_filter_matches_the_line_the_code_logs(aws, caplog):
    from botocore.exceptions import ClientError

    from images.catalog import cleanup

    tf = terraform()
    assert tf.locals["cleanup_pending_pattern"] == '"CLEANUP_PENDING"'
    assert set(tf.locals["cleanup_pending_functions"]) == {"update_image", "delete_image"}
    assert alarms()["cleanup_pending"]["alarm_actions"] == ["${aws_sns_topic.alarms.arn}"]
    item = cleanup.cleanup_item("a" * 32, "t" * 32, ["images/x.png"])
    down = ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "DeleteObjects")
    with mock.patch.object(cleanup.objects, "delete_objects", side_effect=down), caplog.at_level(logging.ERROR):
        assert cleanup.finish(item) is False
    (line,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "CLEANUP_PENDING" in line  # a quoted term filter matches the term anywhere in the event
