# The Cognito PreSignUp trigger (accounts.triggers.pre_sign_up), deployed and attached to the
# pool only when the seed's instant API sign-up is opted in (api_signup_requires_confirmation
# = false): it confirms a POST /users sign-up in place, so Cognito sends no mail. By default
# every sign-up, on both faces, needs the emailed code and there is no trigger at all.
# accounts/pool.py PRE_SIGN_UP_FUNCTION names the function for the local stack too.

locals {
  pre_sign_up_enabled       = !var.api_signup_requires_confirmation
  pre_sign_up_function_name = "${var.project}-pre-sign-up"
}

resource "aws_iam_role" "pre_sign_up" {
  count = local.pre_sign_up_enabled ? 1 : 0

  name               = local.pre_sign_up_function_name
  description        = "Runs the Cognito PreSignUp trigger (accounts.triggers.pre_sign_up)"
  assume_role_policy = data.aws_iam_policy_document.assume["lambda"].json
}

# It only answers Cognito: its own logs, nothing else (Lambda decrypts the environment
# through its own grant on the key).
data "aws_iam_policy_document" "pre_sign_up" {
  count = local.pre_sign_up_enabled ? 1 : 0

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.pre_sign_up[0].arn}:*"]
  }
}

resource "aws_iam_role_policy" "pre_sign_up" {
  count = local.pre_sign_up_enabled ? 1 : 0

  name   = "least-privilege"
  role   = aws_iam_role.pre_sign_up[0].id
  policy = data.aws_iam_policy_document.pre_sign_up[0].json
}

resource "aws_iam_role_policy_attachment" "pre_sign_up_xray" {
  count = local.pre_sign_up_enabled && var.lambda_tracing_mode == "Active" ? 1 : 0

  role       = aws_iam_role.pre_sign_up[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

resource "aws_cloudwatch_log_group" "pre_sign_up" {
  count = local.pre_sign_up_enabled ? 1 : 0

  name              = "/aws/lambda/${local.pre_sign_up_function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn

  depends_on = [aws_kms_key_policy.main]
}

resource "aws_lambda_function" "pre_sign_up" {
  count = local.pre_sign_up_enabled ? 1 : 0
  #checkov:skip=CKV_AWS_116:Invoked synchronously by Cognito only; a dead-letter queue applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_117:The function calls nothing; a VPC would add cold-start latency for nothing.
  #checkov:skip=CKV_AWS_115:Bounded by the sign-ups Cognito accepts (POST /users is throttled); reserved concurrency would fail in accounts with the default low concurrency quota.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signing step outside this repository; the zips are built reproducibly by `make bundle`.

  function_name    = local.pre_sign_up_function_name
  description      = "Cognito PreSignUp: confirms the opted-in instant POST /users sign-up (accounts.triggers)"
  role             = aws_iam_role.pre_sign_up[0].arn
  runtime          = var.lambda_runtime
  architectures    = ["x86_64"]
  handler          = "accounts.triggers.pre_sign_up"
  filename         = var.lambda_code_zip
  source_code_hash = filebase64sha256(var.lambda_code_zip)
  layers           = [aws_lambda_layer_version.deps.arn]
  memory_size      = 128
  timeout          = 5
  kms_key_arn      = aws_kms_key.main.arn

  # Not the core environment: that names the pool, which names this function (a cycle).
  environment {
    variables = {
      API_SIGNUP_REQUIRES_CONFIRMATION = "false"
    }
  }

  tracing_config {
    mode = var.lambda_tracing_mode
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.pre_sign_up[0].name
  }

  depends_on = [aws_iam_role_policy.pre_sign_up]
}

resource "aws_lambda_permission" "pre_sign_up" {
  count = local.pre_sign_up_enabled ? 1 : 0

  statement_id  = "AllowCognitoUserPool"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.pre_sign_up[0].function_name
  principal     = "cognito-idp.amazonaws.com"
  source_arn    = aws_cognito_user_pool.main.arn
}

# A failing trigger refuses every POST /users sign-up (alarms.tf has the others).
resource "aws_cloudwatch_metric_alarm" "pre_sign_up_errors" {
  count = local.pre_sign_up_enabled ? 1 : 0

  alarm_name          = "${local.alarm_prefix}-${local.pre_sign_up_function_name}-errors"
  alarm_description   = "The PreSignUp trigger (${local.pre_sign_up_function_name}) failed, so Cognito refused sign-ups: Lambda Errors > 0 in 5 minutes."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.pre_sign_up[0].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.alarms.arn]
}
