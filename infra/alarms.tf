# Alarms: the operator hears of trouble without looking. Every alarm notifies one SNS topic
# (encrypted with the system key, whose policy lets CloudWatch publish to it, see kms.tf);
# alarm_email subscribes an address to it. Tags come from the provider's default_tags.
#
#   - Errors > 0 in 5 minutes of each API function (local.functions, lambda.tf) and of the
#     scheduled sweep (maintenance.tf): an error of the function itself, not a 4xx answer.
#   - 5XXError > 0 in 5 minutes on the API stage (apigateway.tf).
#   - A sweep that logged "needs_attention":true (missing files or failures a person must
#     handle; images/maintenance.py), through a metric filter on its log group.
#   - A write whose old file could not yet leave the bucket or the CDN (the ERROR line
#     CLEANUP_PENDING of images/catalog/cleanup.py) in an API function's log; the sweep
#     finishes it, the alarm says it happened.
#   - The portal environment Degraded or Severe for 5 minutes (beanstalk.tf, enhanced health).

locals {
  alarm_prefix = "${var.project}-alarm"

  # images/maintenance.py logs json.dumps(summary, separators=(",", ":")), i.e.
  # ..."needs_attention":true,... with no space, after Lambda's text prefix
  # ("[WARNING]\t<time>\t<request id>\t"), so a JSON pattern cannot parse the event. A
  # regular expression, since regex filter patterns may not contain a double quote: "." stands
  # for the quote between the key and the colon. tests/infra/test_alarms.py checks it against
  # the line the module really logs.
  sweep_attention_pattern = "%needs_attention.:true%"

  # images/catalog/cleanup.py logs "CLEANUP_PENDING image <id>: ..." at ERROR (a JSON line
  # through Powertools' Logger, or text): a quoted term matches it anywhere in the event.
  cleanup_pending_pattern   = "\"CLEANUP_PENDING\""
  cleanup_pending_functions = ["update_image", "delete_image"]

  # Enhanced health's EnvironmentHealth: 0 Ok, 1 Info, 5 Unknown, 10 No data, 15 Warning,
  # 20 Degraded, 25 Severe. Warning comes and goes with every rolling deployment.
  environment_health_degraded = 20
}

resource "aws_sns_topic" "alarms" {
  name              = local.alarm_prefix
  display_name      = "Image Manager alarms"
  kms_master_key_id = aws_kms_key.main.arn
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email == "" ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# Only this account's alarms may publish to the topic.
data "aws_iam_policy_document" "alarms_topic" {
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:*"]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarms_topic.json
}

# ---------------------------------------------------------------------------------------
# Lambda errors
# ---------------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "api_errors" {
  for_each = local.functions

  alarm_name          = "${local.alarm_prefix}-${local.function_names[each.key]}-errors"
  alarm_description   = "${each.value.route} (${local.function_names[each.key]}) failed: Lambda Errors > 0 in 5 minutes."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.api[each.key].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "maintenance_errors" {
  alarm_name          = "${local.alarm_prefix}-${local.maintenance_function_name}-errors"
  alarm_description   = "The scheduled sweep (${local.maintenance_function_name}) failed: Lambda Errors > 0 in 5 minutes (Lambda retries twice; see its log group)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.maintenance.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

# ---------------------------------------------------------------------------------------
# API Gateway 5xx
# ---------------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${local.alarm_prefix}-api-5xx"
  alarm_description   = "The API stage ${var.api_stage_name} answered 5xx: 5XXError > 0 in 5 minutes (access logs: ${aws_cloudwatch_log_group.api_access.name})."
  namespace           = "AWS/ApiGateway"
  metric_name         = "5XXError"
  dimensions          = { ApiName = aws_api_gateway_rest_api.main.name, Stage = aws_api_gateway_stage.main.stage_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

# ---------------------------------------------------------------------------------------
# The sweep found something a person must handle
# ---------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_metric_filter" "sweep_needs_attention" {
  name           = "${local.maintenance_function_name}-needs-attention"
  log_group_name = aws_cloudwatch_log_group.maintenance.name
  pattern        = local.sweep_attention_pattern

  metric_transformation {
    name      = "SweepNeedsAttention"
    namespace = var.project
    value     = "1"
    unit      = "Count"
  }
}

resource "aws_cloudwatch_metric_alarm" "sweep_needs_attention" {
  alarm_name          = "${local.alarm_prefix}-${local.maintenance_function_name}-needs-attention"
  alarm_description   = "The sweep logged needs_attention: images whose file is missing, or repairs that failed. Read its summary line in ${aws_cloudwatch_log_group.maintenance.name}."
  namespace           = aws_cloudwatch_log_metric_filter.sweep_needs_attention.metric_transformation[0].namespace
  metric_name         = aws_cloudwatch_log_metric_filter.sweep_needs_attention.metric_transformation[0].name
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

# ---------------------------------------------------------------------------------------
# A removed file still in the bucket or the CDN
# ---------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_metric_filter" "cleanup_pending" {
  for_each = toset(local.cleanup_pending_functions)

  name           = "${local.function_names[each.key]}-cleanup-pending"
  log_group_name = aws_cloudwatch_log_group.lambda[each.key].name
  pattern        = local.cleanup_pending_pattern

  metric_transformation {
    name      = "CleanupPending"
    namespace = var.project
    value     = "1"
    unit      = "Count"
  }
}

resource "aws_cloudwatch_metric_alarm" "cleanup_pending" {
  alarm_name          = "${local.alarm_prefix}-cleanup-pending"
  alarm_description   = "A replaced or deleted image's old file could not yet be removed from the bucket or the CDN (CLEANUP_PENDING in an API function's log). The scheduled sweep finishes it; run sweep_images --repair to finish it now."
  namespace           = var.project
  metric_name         = "CleanupPending"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.alarms.arn]

  depends_on = [aws_cloudwatch_log_metric_filter.cleanup_pending]
}

# ---------------------------------------------------------------------------------------
# Portal health
# ---------------------------------------------------------------------------------------

# EnvironmentHealth is the metric enhanced health (SystemType = enhanced, beanstalk.tf)
# publishes by default, per environment. Minimum over 5 minutes: Degraded or worse throughout.
resource "aws_cloudwatch_metric_alarm" "portal_health" {
  alarm_name          = "${local.alarm_prefix}-${aws_elastic_beanstalk_environment.portal.name}-health"
  alarm_description   = "The portal environment ${aws_elastic_beanstalk_environment.portal.name} is Degraded or Severe (EnvironmentHealth >= 20) for 5 minutes."
  namespace           = "AWS/ElasticBeanstalk"
  metric_name         = "EnvironmentHealth"
  dimensions          = { EnvironmentName = aws_elastic_beanstalk_environment.portal.name }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = local.environment_health_degraded
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.alarms.arn]
}
