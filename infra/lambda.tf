# One function per API route, one least-privilege role each, one shared dependency layer.
# The code and layer zips come from `make bundle` (scripts/bundle.py). tests/infra checks
# that every function here is a route in openapi.yaml with the same handler, and back.

locals {
  lambda_prefix = "${var.project}-api"

  dynamodb_read_actions  = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"]
  dynamodb_write_actions = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]

  table_arns = {
    images          = [aws_dynamodb_table.images.arn, "${aws_dynamodb_table.images.arn}/index/by_created"]
    image_terms     = [aws_dynamodb_table.image_terms.arn]
    signin_attempts = [aws_dynamodb_table.signin_attempts.arn]
  }

  functions = {
    list_images = {
      route          = "GET /images"
      handler        = "images.api.list_images"
      memory_size    = 512
      timeout        = 29
      dynamodb_read  = ["images"]
      dynamodb_write = []
      s3_read        = []
      s3_put         = []
      s3_delete      = []
      cognito        = []
    }
    search_images = {
      route          = "GET /images/{key}/{value}"
      handler        = "images.api.search_images"
      memory_size    = 512
      timeout        = 29
      dynamodb_read  = ["images", "image_terms"]
      dynamodb_write = []
      s3_read        = []
      s3_put         = []
      s3_delete      = []
      cognito        = []
    }
    create_image = {
      route          = "POST /images"
      handler        = "images.api.create_image"
      memory_size    = 1536
      timeout        = 29
      dynamodb_read  = ["images", "image_terms"]
      dynamodb_write = ["images", "image_terms"]
      # With upload_key: reads the caller's upload, deletes it once registered or refused.
      s3_read   = ["uploads/"]
      s3_put    = ["images/", "thumbnails/"]
      s3_delete = ["uploads/", "images/", "thumbnails/"]
      cognito   = []
    }
    update_image = {
      route          = "PUT /images"
      handler        = "images.api.update_image"
      memory_size    = 1536
      timeout        = 29
      dynamodb_read  = ["images", "image_terms"]
      dynamodb_write = ["images", "image_terms"]
      # With upload_key: reads the caller's upload, deletes it once used or refused.
      s3_read   = ["staging/", "images/", "uploads/"]
      s3_put    = ["staging/", "images/", "thumbnails/"]
      s3_delete = ["staging/", "images/", "thumbnails/", "uploads/"]
      cognito   = []
    }
    create_upload = {
      route          = "POST /images/uploads"
      handler        = "images.api.create_upload"
      memory_size    = 256
      timeout        = 15
      dynamodb_read  = []
      dynamodb_write = []
      s3_read        = []
      # A presigned POST is signed with this role's credentials: S3 checks the ROLE's
      # s3:PutObject on the key when the client posts the file (the function itself
      # never touches S3).
      s3_put    = ["uploads/"]
      s3_delete = []
      cognito   = []
    }
    delete_image = {
      route          = "DELETE /images"
      handler        = "images.api.delete_image"
      memory_size    = 256
      timeout        = 29
      dynamodb_read  = ["images", "image_terms"]
      dynamodb_write = ["images", "image_terms"]
      s3_read        = []
      s3_put         = []
      s3_delete      = ["images/", "thumbnails/", "staging/"]
      cognito        = []
    }
    create_user = {
      route          = "POST /users"
      handler        = "accounts.api.create_user"
      memory_size    = 256
      timeout        = 15
      dynamodb_read  = []
      dynamodb_write = []
      s3_read        = []
      s3_put         = []
      s3_delete      = []
      # SignUp only: the opted-in instant sign-up is confirmed by the PreSignUp trigger.
      cognito = ["cognito-idp:SignUp"]
    }
    create_token = {
      route       = "POST /users/token"
      handler     = "accounts.api.create_token"
      memory_size = 256
      timeout     = 15
      # Failed sign-ins are counted per username and address (accounts/throttle.py).
      dynamodb_read  = ["signin_attempts"]
      dynamodb_write = ["signin_attempts"]
      s3_read        = []
      s3_put         = []
      s3_delete      = []
      # SRP sign-in: InitiateAuth (USER_SRP_AUTH), then RespondToAuthChallenge (PASSWORD_VERIFIER).
      cognito = ["cognito-idp:InitiateAuth", "cognito-idp:RespondToAuthChallenge"]
    }
  }

  function_names = { for key, _ in local.functions : key => "${local.lambda_prefix}-${replace(key, "_", "-")}" }
}

# ---------------------------------------------------------------------------------------
# Roles
# ---------------------------------------------------------------------------------------

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  for_each = local.functions

  name               = local.function_names[each.key]
  description        = "Runs ${each.value.route} (${each.value.handler})"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "lambda" {
  for_each = local.functions

  # Its own log group only (created below, so no logs:CreateLogGroup).
  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda[each.key].arn}:*"]
  }

  # The Lambda service decrypts the function's environment with the system key.
  statement {
    sid       = "DecryptOwnEnvironment"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.main.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:LambdaFunctionName"
      values   = [local.function_names[each.key]]
    }
  }

  dynamic "statement" {
    for_each = length(each.value.dynamodb_read) > 0 ? [1] : []
    content {
      sid       = "ReadTables"
      actions   = local.dynamodb_read_actions
      resources = flatten([for table in each.value.dynamodb_read : local.table_arns[table]])
    }
  }

  dynamic "statement" {
    for_each = length(each.value.dynamodb_write) > 0 ? [1] : []
    content {
      sid       = "WriteTables"
      actions   = local.dynamodb_write_actions
      resources = [for table in each.value.dynamodb_write : local.table_arns[table][0]]
    }
  }

  dynamic "statement" {
    for_each = length(concat(each.value.dynamodb_read, each.value.dynamodb_write)) > 0 ? [1] : []
    content {
      sid       = "UseTableKeyThroughDynamoDB"
      actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
      resources = [aws_kms_key.main.arn]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["dynamodb.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(each.value.s3_read) > 0 ? [1] : []
    content {
      sid       = "ReadObjects"
      actions   = ["s3:GetObject"]
      resources = [for prefix in each.value.s3_read : "${aws_s3_bucket.images.arn}/${prefix}*"]
    }
  }

  dynamic "statement" {
    for_each = length(each.value.s3_put) > 0 ? [1] : []
    content {
      sid       = "PutObjects"
      actions   = ["s3:PutObject"]
      resources = [for prefix in each.value.s3_put : "${aws_s3_bucket.images.arn}/${prefix}*"]
    }
  }

  dynamic "statement" {
    for_each = length(each.value.s3_delete) > 0 ? [1] : []
    content {
      sid       = "DeleteObjects"
      actions   = ["s3:DeleteObject"]
      resources = [for prefix in each.value.s3_delete : "${aws_s3_bucket.images.arn}/${prefix}*"]
    }
  }

  dynamic "statement" {
    for_each = length(each.value.cognito) > 0 ? [1] : []
    content {
      sid       = "UserPool"
      actions   = each.value.cognito
      resources = [aws_cognito_user_pool.main.arn]
    }
  }
}

resource "aws_iam_role_policy" "lambda" {
  for_each = local.functions

  name   = "least-privilege"
  role   = aws_iam_role.lambda[each.key].id
  policy = data.aws_iam_policy_document.lambda[each.key].json
}

resource "aws_iam_role_policy_attachment" "lambda_xray" {
  for_each = var.lambda_tracing_mode == "Active" ? local.functions : {}

  role       = aws_iam_role.lambda[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

# ---------------------------------------------------------------------------------------
# Layer, log groups, functions
# ---------------------------------------------------------------------------------------

resource "aws_lambda_layer_version" "deps" {
  layer_name               = "${var.project}-deps"
  description              = "requirements/lambda.txt for ${var.lambda_runtime} x86_64"
  filename                 = var.lambda_layer_zip
  source_code_hash         = filebase64sha256(var.lambda_layer_zip)
  compatible_runtimes      = [var.lambda_runtime]
  compatible_architectures = ["x86_64"]
}

resource "aws_cloudwatch_log_group" "lambda" {
  for_each = local.functions

  name              = "/aws/lambda/${local.function_names[each.key]}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn

  depends_on = [aws_kms_key_policy.main]
}

resource "aws_lambda_function" "api" {
  for_each = local.functions
  #checkov:skip=CKV_AWS_116:Invoked synchronously by API Gateway only; a dead-letter queue applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_117:The functions reach only public AWS endpoints (DynamoDB, S3, Cognito); a VPC would add NAT cost and cold-start latency for nothing.
  #checkov:skip=CKV_AWS_115:Concurrency is bounded by the API stage's throttling; reserved concurrency would fail in accounts with the default low concurrency quota.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signing step outside this repository; the zips are built reproducibly by `make bundle`.

  function_name    = local.function_names[each.key]
  description      = "${each.value.route} (${each.value.handler})"
  role             = aws_iam_role.lambda[each.key].arn
  runtime          = var.lambda_runtime
  architectures    = ["x86_64"]
  handler          = each.value.handler
  filename         = var.lambda_code_zip
  source_code_hash = filebase64sha256(var.lambda_code_zip)
  layers           = [aws_lambda_layer_version.deps.arn]
  memory_size      = each.value.memory_size
  timeout          = each.value.timeout
  kms_key_arn      = aws_kms_key.main.arn

  environment {
    variables = local.lambda_environment
  }

  tracing_config {
    mode = var.lambda_tracing_mode
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.lambda[each.key].name
  }

  depends_on = [aws_iam_role_policy.lambda]
}

resource "aws_lambda_permission" "api" {
  for_each = local.functions

  statement_id  = "AllowApiGateway"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.api[each.key].function_name
  principal     = "apigateway.amazonaws.com"
  # Only this API, only this method and path (path parameters as wildcards).
  source_arn = "${aws_api_gateway_rest_api.main.execution_arn}/*/${split(" ", each.value.route)[0]}${replace(split(" ", each.value.route)[1], "/\\{[^}]+\\}/", "*")}"
}
