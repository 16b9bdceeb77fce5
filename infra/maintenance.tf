# The scheduled sweep: EventBridge runs images.maintenance.lambda_handler on a schedule, which
# repairs what a crash between S3 and DynamoDB left behind (images/sweep.py): orphan objects
# deleted, unfinished cleanups of removed file versions finished, facet counts recounted. Same code zip and
# layer as the API functions; its own least-privilege role.

locals {
  maintenance_function_name = "${var.project}-sweep"

  # The sweep's settings (common/config.py); the function also gets the core environment,
  # since get_config() reads it (tables, bucket).
  maintenance_only_environment = {
    SWEEP_GRACE_MINUTES = tostring(var.sweep_grace_minutes)
    SWEEP_REPAIR        = var.sweep_repair ? "true" : "false"
  }
  maintenance_environment = merge(local.core_environment, local.maintenance_only_environment)
}

# ---------------------------------------------------------------------------------------
# Role: exactly the calls of images/sweep.py (and catalog.finish_replacement)
# ---------------------------------------------------------------------------------------

resource "aws_iam_role" "maintenance" {
  name               = local.maintenance_function_name
  description        = "Runs the scheduled sweep (images.maintenance.lambda_handler)"
  assume_role_policy = data.aws_iam_policy_document.assume["lambda"].json
}

data "aws_iam_policy_document" "maintenance" {
  # The tables' key, only through DynamoDB (kms.tf). No kms:Decrypt for the function's
  # environment: Lambda decrypts it through its own grant on the key.
  source_policy_documents = [data.aws_iam_policy_document.kms_via_dynamodb.json]

  # Its own log group only (created below, so no logs:CreateLogGroup).
  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.maintenance.arn}:*"]
  }

  # ImageRecord.scan (every record). No index: the scan reads the base table.
  statement {
    sid       = "ScanImages"
    actions   = ["dynamodb:Scan"]
    resources = [aws_dynamodb_table.images.arn]
  }

  # ImageTerm.query of each facet's counters, then the conditional recount (update, or
  # delete of a counter that should not exist); the query of unfinished cleanups and the
  # delete of each once finished; the query of trash postings past the retention period, and
  # each purge's transaction (trash postings out, a cleanup item in).
  statement {
    sid       = "RecountFacetsAndFinishCleanups"
    actions   = ["dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.image_terms.arn]
  }

  # The retention purge: each expired image is read, then deleted in a transaction with its
  # history entry (kept; a lost reply is settled by reading it back).
  statement {
    sid       = "PurgeExpiredTrash"
    actions   = ["dynamodb:GetItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.images.arn]
  }

  statement {
    sid       = "PurgeHistoryEntries"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem"]
    resources = [aws_dynamodb_table.image_history.arn]
  }

  # list_objects_v2 of each prefix. No s3:prefix condition: the bucket holds only these
  # prefixes, and S3 answers a missing key with 404 (not 403) only to a caller allowed an
  # unconditioned s3:ListBucket.
  statement {
    sid       = "ListBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.images.arn]
  }

  # A finished cleanup takes the removed objects out of the CDN.
  statement {
    sid       = "InvalidateImageCache"
    actions   = ["cloudfront:CreateInvalidation"]
    resources = [aws_cloudfront_distribution.images.arn]
  }

  # DeleteObjects of orphans under every prefix it lists (images.sweep.SWEPT_PREFIXES), and
  # of the objects of unfinished cleanups.
  statement {
    sid     = "DeleteOrphans"
    actions = ["s3:DeleteObject"]
    resources = [
      "${aws_s3_bucket.images.arn}/images/*",
      "${aws_s3_bucket.images.arn}/thumbnails/*",
      "${aws_s3_bucket.images.arn}/uploads/*",
      "${aws_s3_bucket.images.arn}/trash/*",
      "${aws_s3_bucket.images.arn}/renditions/*",
    ]
  }
}

resource "aws_iam_role_policy" "maintenance" {
  name   = "least-privilege"
  role   = aws_iam_role.maintenance.id
  policy = data.aws_iam_policy_document.maintenance.json
}

resource "aws_iam_role_policy_attachment" "maintenance_xray" {
  count = var.lambda_tracing_mode == "Active" ? 1 : 0

  role       = aws_iam_role.maintenance.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

# ---------------------------------------------------------------------------------------
# Log group, function
# ---------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "maintenance" {
  name              = "/aws/lambda/${local.maintenance_function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn

  depends_on = [aws_kms_key_policy.main]
}

resource "aws_lambda_function" "maintenance" {
  #checkov:skip=CKV_AWS_116:Invoked asynchronously by the schedule only; the event carries nothing (the sweep reads all it needs), Lambda retries a failed run twice and the next scheduled run repeats the whole idempotent sweep, so a dead-letter queue would keep nothing worth replaying.
  #checkov:skip=CKV_AWS_117:The function reaches only public AWS endpoints (DynamoDB, S3); a VPC would add NAT cost for nothing.
  #checkov:skip=CKV_AWS_115:One run per schedule; overlapping runs are safe (deletes and copies are idempotent, recounts conditional), and reserved concurrency would fail in accounts with the default low concurrency quota.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signing step outside this repository; the zips are built reproducibly by `make bundle`.

  function_name    = local.maintenance_function_name
  description      = "Scheduled sweep: repairs what a crash between S3 and DynamoDB left (images.maintenance)"
  role             = aws_iam_role.maintenance.arn
  runtime          = var.lambda_runtime
  architectures    = ["x86_64"]
  handler          = "images.maintenance.lambda_handler"
  filename         = var.lambda_code_zip
  source_code_hash = filebase64sha256(var.lambda_code_zip)
  layers           = [aws_lambda_layer_version.deps.arn]
  memory_size      = var.maintenance_memory_size
  timeout          = var.maintenance_timeout
  kms_key_arn      = aws_kms_key.main.arn

  environment {
    variables = local.maintenance_environment
  }

  tracing_config {
    mode = var.lambda_tracing_mode
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.maintenance.name
  }

  depends_on = [aws_iam_role_policy.maintenance]
}

# ---------------------------------------------------------------------------------------
# Schedule
# ---------------------------------------------------------------------------------------

resource "aws_cloudwatch_event_rule" "maintenance" {
  name                = local.maintenance_function_name
  description         = "Runs the sweep of leftovers and facet counts (${local.maintenance_function_name})"
  schedule_expression = var.maintenance_schedule
}

resource "aws_cloudwatch_event_target" "maintenance" {
  rule      = aws_cloudwatch_event_rule.maintenance.name
  target_id = "sweep"
  arn       = aws_lambda_function.maintenance.arn
}

resource "aws_lambda_permission" "maintenance" {
  statement_id  = "AllowSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.maintenance.function_name
  principal     = "events.amazonaws.com"
  # Only this rule.
  source_arn = aws_cloudwatch_event_rule.maintenance.arn
}
