# Renditions on demand (images/render.py, images/media/renditions.py): CloudFront asks the
# bucket for renditions/<id>/<token>.<ext>/<width>.<format> first; on a miss (403: the
# distribution may not list the bucket) the origin group fails over to the render function's
# URL, which renders from the version's original, stores the result under renditions/ and
# answers it. The next request is a CloudFront or bucket hit. CloudFront collapses simultaneous
# requests for one URL per cache; reserved concurrency bounds the renders running at once; the
# store is a conditional put, so the first render of a key stays.

variable "render_memory_size" {
  type        = number
  description = "Memory (MB) of the render function: one decoded original (at most image_max_pixels at 4 bytes each) and the CPU to resize it."
  default     = 3008
}

variable "render_timeout" {
  type        = number
  description = "Seconds the render function may take for one rendition (a 50-megapixel original is read, decoded and resized; CloudFront waits up to 30 s for an origin)."
  default     = 30

  validation {
    condition     = var.render_timeout >= 5 && var.render_timeout <= 30
    error_message = "render_timeout must be 5 to 30 seconds (CloudFront's origin response timeout)."
  }
}

variable "render_reserved_concurrency" {
  type        = number
  description = "Renders that may run at once across the account (-1: no reservation, for accounts with the default low concurrency quota)."
  default     = 10
}

locals {
  render_function_name = "${var.project}-render"
  # The function URL's host, as CloudFront's custom origin wants it.
  render_origin_domain = replace(trimsuffix(aws_lambda_function_url.render.function_url, "/"), "https://", "")
}

resource "aws_iam_role" "render" {
  name               = local.render_function_name
  description        = "Runs the render function (images.render.lambda_handler)"
  assume_role_policy = data.aws_iam_policy_document.assume["lambda"].json
}

data "aws_iam_policy_document" "render" {
  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.render.arn}:*"]
  }

  # The originals it renders from, and the renditions it looks for first.
  statement {
    sid     = "ReadOriginalsAndRenditions"
    actions = ["s3:GetObject"]
    resources = [
      "${aws_s3_bucket.images.arn}/images/*",
      "${aws_s3_bucket.images.arn}/renditions/*",
    ]
  }

  # Delete: a rendition stored while its version was being deleted is taken back (images/render.py).
  statement {
    sid       = "StoreRenditions"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.images.arn}/renditions/*"]
  }
}

resource "aws_iam_role_policy" "render" {
  name   = "least-privilege"
  role   = aws_iam_role.render.id
  policy = data.aws_iam_policy_document.render.json
}

resource "aws_cloudwatch_log_group" "render" {
  name              = "/aws/lambda/${local.render_function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn

  depends_on = [aws_kms_key_policy.main]
}

resource "aws_lambda_function" "render" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously through its function URL by CloudFront only; a dead-letter queue applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_117:Reaches only S3; a VPC would add NAT cost and cold-start latency for nothing.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signing step outside this repository; the zips are built reproducibly by `make bundle`.
  #checkov:skip=CKV_AWS_173:The environment holds a bucket name and a pixel limit, no secrets.
  function_name                  = local.render_function_name
  description                    = "Renders renditions on a CDN miss (images.render.lambda_handler)"
  role                           = aws_iam_role.render.arn
  runtime                        = var.lambda_runtime
  architectures                  = ["x86_64"]
  handler                        = "images.render.lambda_handler"
  filename                       = var.lambda_code_zip
  source_code_hash               = filebase64sha256(var.lambda_code_zip)
  layers                         = [aws_lambda_layer_version.deps.arn]
  memory_size                    = var.render_memory_size
  timeout                        = var.render_timeout
  reserved_concurrent_executions = var.render_reserved_concurrency
  kms_key_arn                    = aws_kms_key.main.arn

  # The original is spooled to /tmp past 16 MiB: room for one of image_max_bytes.
  ephemeral_storage {
    size = max(512, ceil(var.image_max_bytes / 1048576) + 256)
  }

  # Not core_environment: that names the distribution, which names this function's URL.
  environment {
    variables = {
      IMAGES_BUCKET    = aws_s3_bucket.images.id
      IMAGE_MAX_PIXELS = tostring(var.image_max_pixels)
    }
  }

  tracing_config {
    mode = var.lambda_tracing_mode
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.render.name
  }

  depends_on = [aws_iam_role_policy.render]
}

resource "aws_iam_role_policy_attachment" "render_xray" {
  count = var.lambda_tracing_mode == "Active" ? 1 : 0

  role       = aws_iam_role.render.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

# Signed requests only: CloudFront signs them with the origin access control below.
resource "aws_lambda_function_url" "render" {
  function_name      = aws_lambda_function.render.function_name
  authorization_type = "AWS_IAM"
}

resource "aws_cloudfront_origin_access_control" "render" {
  name                              = "${var.project}-render"
  description                       = "CloudFront invokes the render function's URL"
  origin_access_control_origin_type = "lambda"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

# Only this distribution may call the URL (a function URL needs both actions allowed).
resource "aws_lambda_permission" "render_url" {
  statement_id           = "AllowCloudFrontFunctionUrl"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.render.function_name
  principal              = "cloudfront.amazonaws.com"
  source_arn             = aws_cloudfront_distribution.images.arn
  function_url_auth_type = "AWS_IAM"
}

resource "aws_lambda_permission" "render_invoke" {
  statement_id  = "AllowCloudFrontInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.render.function_name
  principal     = "cloudfront.amazonaws.com"
  source_arn    = aws_cloudfront_distribution.images.arn
}

resource "aws_cloudwatch_metric_alarm" "render_errors" {
  alarm_name          = "${local.alarm_prefix}-${local.render_function_name}-errors"
  alarm_description   = "The render function (${local.render_function_name}) failed: Lambda Errors > 0 in 5 minutes (a refused original is a 4xx answer, not an error; see its log group)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.render.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.alarms.arn]
}
