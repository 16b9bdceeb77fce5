# The REST API, built from openapi.yaml (the same file the local gateway routes by).

locals {
  openapi_body = templatefile("${path.module}/openapi.yaml", merge(
    { cognito_user_pool_arn = aws_cognito_user_pool.main.arn },
    { for key, function in aws_lambda_function.api : "${key}_uri" => function.invoke_arn },
  ))
}

resource "aws_api_gateway_rest_api" "main" {
  name        = "${var.project}-api"
  description = "Image Manager REST API (infra/openapi.yaml)"
  body        = local.openapi_body

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_deployment" "main" {
  rest_api_id = aws_api_gateway_rest_api.main.id

  triggers = {
    redeployment = sha1(local.openapi_body)
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/${var.project}-api/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn

  depends_on = [aws_kms_key_policy.main]
}

resource "aws_api_gateway_stage" "main" {
  #checkov:skip=CKV2_AWS_29:No WAF: every image route needs a Cognito token, the stage is throttled, and the Lambda payload limit caps request size. Attach a web ACL if abuse appears.
  #checkov:skip=CKV2_AWS_51:Client certificates authenticate API Gateway to an HTTP backend; the integrations are Lambda proxies.
  #checkov:skip=CKV_AWS_120:No cache: answers depend on the caller's token and change with every write.
  deployment_id        = aws_api_gateway_deployment.main.id
  rest_api_id          = aws_api_gateway_rest_api.main.id
  stage_name           = var.api_stage_name
  xray_tracing_enabled = var.lambda_tracing_mode == "Active"

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId         = "$context.requestId"
      ip                = "$context.identity.sourceIp"
      requestTime       = "$context.requestTime"
      httpMethod        = "$context.httpMethod"
      resourcePath      = "$context.resourcePath"
      status            = "$context.status"
      responseLength    = "$context.responseLength"
      integrationStatus = "$context.integration.status"
      latency           = "$context.responseLatency"
      user              = "$context.authorizer.claims.sub"
      error             = "$context.error.message"
    })
  }

  depends_on = [aws_api_gateway_account.main]
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225:No cache (see CKV_AWS_120 on the stage).
  rest_api_id = aws_api_gateway_rest_api.main.id
  stage_name  = aws_api_gateway_stage.main.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = "ERROR"
    data_trace_enabled     = false
    throttling_rate_limit  = var.api_throttling_rate_limit
    throttling_burst_limit = var.api_throttling_burst_limit
    caching_enabled        = false
  }
}

# The unsecured routes get their own, lower limits (method settings override the stage's
# "*/*" for their method): sign-ups and sign-ins are what a script floods.
locals {
  users_throttling = {
    "users/POST"        = { rate = var.api_signup_throttling_rate_limit, burst = var.api_signup_throttling_burst_limit }
    "users~1token/POST" = { rate = var.api_signin_throttling_rate_limit, burst = var.api_signin_throttling_burst_limit }
  }
}

resource "aws_api_gateway_method_settings" "users" {
  for_each = local.users_throttling
  #checkov:skip=CKV_AWS_225:No cache (see CKV_AWS_120 on the stage).
  rest_api_id = aws_api_gateway_rest_api.main.id
  stage_name  = aws_api_gateway_stage.main.stage_name
  method_path = each.key

  settings {
    metrics_enabled        = true
    logging_level          = "ERROR"
    data_trace_enabled     = false
    throttling_rate_limit  = each.value.rate
    throttling_burst_limit = each.value.burst
    caching_enabled        = false
  }
}

# API Gateway writes its logs with one role per account and region.
resource "aws_iam_role" "apigateway_logs" {
  name               = "${var.project}-apigateway-logs"
  description        = "API Gateway writes execution and access logs"
  assume_role_policy = data.aws_iam_policy_document.assume["apigateway"].json
}

resource "aws_iam_role_policy_attachment" "apigateway_logs" {
  role       = aws_iam_role.apigateway_logs.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "main" {
  cloudwatch_role_arn = aws_iam_role.apigateway_logs.arn
  depends_on          = [aws_iam_role_policy_attachment.apigateway_logs]
}
