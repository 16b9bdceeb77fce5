# One function per API route, one least-privilege role each, one shared dependency layer.
# The code and layer zips come from `make bundle` (scripts/bundle.py). tests/infra checks
# that every function here is a route in openapi.yaml with the same handler, and back.

locals {
  lambda_prefix = "${var.project}-api"

  # create_image and update_image register uploads of up to IMAGE_MAX_BYTES (200 MiB): the
  # object is streamed from S3 into a file in /tmp and verified from it (the cleaned file is a
  # view of that file, not a copy), so memory holds the decoded pixels (at most
  # IMAGE_MAX_PIXELS, 4 bytes each, converted for the thumbnail a strip at a time), not the
  # file. scripts/measure_verify_memory.py (the real path, in a fresh process) measures a peak
  # RSS of 269 MiB registering a 199 MB, 49.8 MP RGBA PNG (both limits) and 221 MiB for a
  # 110 MiB, 38 MP one, from a process of 65 MiB. 3008 MB leaves ten times that, and is for
  # the CPU (memory-proportional): the 199 MB file took 4 to 8 s end to end on the shared test
  # machine (read from S3, verified, stored), inside API Gateway's 29 s, which no function
  # timeout can extend.
  upload_memory_size = 3008
  # In MB: one upload's file (IMAGE_MAX_BYTES) and room to spare; 512 is Lambda's default.
  upload_ephemeral_storage = max(512, ceil(var.image_max_bytes / 1048576) + 256)

  # Per function: the DynamoDB actions on each table or index, the object prefixes it reads,
  # puts and deletes, whether it signs list cursors (reads the cursor secret) and whether it
  # invalidates the CDN (a file version lost its last reference); exactly the calls its handler makes (tests/infra/test_permissions.py
  # runs each handler against this policy). Cognito actions only where IAM evaluates them
  # (Admin* calls): SignUp and the SRP sign-in are authorised by the app client, not by IAM.
  functions = {
    list_images = {
      route       = "GET /images"
      handler     = "images.api.images.list_images"
      memory_size = 512
      timeout     = 29
      # A page of the by_created index.
      # GET /images with search parameters (README, "The REST API") runs the search engine too.
      dynamodb        = { images_by_created = ["Query"], image_terms = ["BatchGetItem", "Query"], images = ["BatchGetItem"] }
      s3_read         = []
      s3_put          = []
      s3_delete       = []
      cognito         = []
      cursor_secret   = true
      invalidates_cdn = false
    }
    search_images = {
      route       = "GET /images/{key}/{value}"
      handler     = "images.api.images.search_images"
      memory_size = 512
      timeout     = 29
      # The clauses' counters (to start from the rarest), the term's postings, then their
      # records in batches (one, for an id).
      dynamodb        = { image_terms = ["BatchGetItem", "Query"], images = ["GetItem", "BatchGetItem"] }
      s3_read         = []
      s3_put          = []
      s3_delete       = []
      cognito         = []
      cursor_secret   = true
      invalidates_cdn = false
    }
    create_image = {
      route   = "POST /images"
      handler = "images.api.images.create_image"
      # Registers uploads: see upload_memory_size.
      memory_size       = local.upload_memory_size
      timeout           = 29
      ephemeral_storage = local.upload_ephemeral_storage
      # Record, postings and history entry in one transaction, then the facet counters; a
      # lost reply is settled by reading the history entry. Idempotency-Key: Powertools'
      # records (a conditional put that hands back a replay's record, the answer saved, the
      # record dropped after a failure).
      # Duplicate detection reads the sha256: and pixels: postings and the records they name;
      # refusing duplicates, it reads the content's claims (BatchGetItem) and writes its own.
      dynamodb = {
        # GetItem: a retry with the same upload_key or Idempotency-Key reads the one image.
        images        = ["PutItem", "BatchGetItem", "GetItem"]
        image_terms   = ["PutItem", "UpdateItem", "Query", "BatchGetItem"]
        image_history = ["PutItem", "GetItem"]
        idempotency   = ["PutItem", "UpdateItem", "DeleteItem"]
      }
      # With upload_key: reads the caller's upload, deletes it once registered or refused;
      # the files it stored are deleted again when the transaction fails.
      s3_read         = ["uploads/"]
      s3_put          = ["images/", "thumbnails/"]
      s3_delete       = ["uploads/", "images/", "thumbnails/"]
      cognito         = []
      cursor_secret   = false
      invalidates_cdn = false
    }
    update_image = {
      route   = "PUT /images"
      handler = "images.api.images.update_image"
      # Registers uploads: see upload_memory_size.
      memory_size       = local.upload_memory_size
      timeout           = 29
      ephemeral_storage = local.upload_ephemeral_storage
      # Read, then one transaction: versioned save, changed postings, history entry and (for a
      # new file) a cleanup item; counters; the cleanup item goes once the old file is gone.
      # Refusing duplicates: the content's claims are read (BatchGetItem) and written.
      dynamodb = {
        images        = ["GetItem", "PutItem", "BatchGetItem"]
        image_terms   = ["PutItem", "DeleteItem", "UpdateItem", "Query", "BatchGetItem"]
        image_history = ["PutItem", "GetItem"]
      }
      # A new file version gets keys of its own; the old version's objects are deleted after
      # the switch (and the new ones if the transaction fails). With upload_key the caller's
      # upload is read and deleted.
      s3_read         = ["uploads/"]
      s3_put          = ["images/", "thumbnails/"]
      s3_delete       = ["images/", "thumbnails/", "uploads/", "renditions/"]
      cognito         = []
      cursor_secret   = false
      invalidates_cdn = true
    }
    create_upload = {
      route       = "POST /images/uploads"
      handler     = "images.api.images.create_upload"
      memory_size = 256
      timeout     = 15
      dynamodb    = {}
      s3_read     = []
      # A presigned POST is signed with this role's credentials: S3 checks the ROLE's
      # s3:PutObject on the key when the client posts the file (the function itself
      # never touches S3).
      s3_put          = ["uploads/"]
      s3_delete       = []
      cognito         = []
      cursor_secret   = false
      invalidates_cdn = false
    }
    delete_image = {
      route       = "DELETE /images"
      handler     = "images.api.images.delete_image"
      memory_size = 256
      timeout     = 29
      # Moves the image to the trash: read, copy its objects under trash/, then one transaction
      # (record saved TRASHED, postings out, trash postings, history entry and cleanup item in);
      # the counters; the public objects leave the bucket and the CDN, then the cleanup item. A
      # retried delete of an image already trashed finishes its pending cleanup (Query).
      dynamodb = {
        images        = ["GetItem", "PutItem"]
        image_terms   = ["PutItem", "DeleteItem", "UpdateItem", "Query"]
        image_history = ["PutItem", "GetItem"]
      }
      # CopyObject reads the public objects and puts their trash copies (removed again if the
      # transaction fails).
      s3_read         = ["images/", "thumbnails/"]
      s3_put          = ["trash/"]
      s3_delete       = ["images/", "thumbnails/", "trash/", "renditions/"]
      cognito         = []
      cursor_secret   = false
      invalidates_cdn = true
    }
    list_trash = {
      route       = "GET /images/trash"
      handler     = "images.api.trash.list_trash"
      memory_size = 256
      timeout     = 29
      # A page of the caller's (or, for staff, everyone's) trash postings, then their records.
      dynamodb        = { image_terms = ["Query"], images = ["BatchGetItem"] }
      s3_read         = []
      s3_put          = []
      s3_delete       = []
      cognito         = []
      cursor_secret   = true
      invalidates_cdn = false
    }
    restore_image = {
      route       = "POST /images/restore"
      handler     = "images.api.trash.restore_image"
      memory_size = 256
      timeout     = 29
      # Copies the trash objects to new public keys, then one transaction (record READY again,
      # trash postings out, postings, history entry and cleanup item in); counters; the trash
      # copies go with the cleanup item (nothing to invalidate: the CDN never served trash/), with
      # any rendition of the trashed version (a render that raced the delete: images/render.py).
      dynamodb = {
        images        = ["GetItem", "PutItem"]
        image_terms   = ["PutItem", "DeleteItem", "UpdateItem"]
        image_history = ["PutItem", "GetItem"]
      }
      s3_read         = ["trash/"]
      s3_put          = ["images/", "thumbnails/"]
      s3_delete       = ["trash/", "images/", "thumbnails/", "renditions/"]
      cognito         = []
      cursor_secret   = false
      invalidates_cdn = false
    }
    purge_image = {
      route       = "POST /images/purge"
      handler     = "images.api.trash.purge_image"
      memory_size = 256
      timeout     = 29
      # Staff: one transaction deletes the record and its trash postings and writes the history
      # entry (kept) and a cleanup item; then the trash objects go (with any rendition of the
      # trashed version a render stored late), then the cleanup item.
      dynamodb = {
        images        = ["GetItem", "DeleteItem"]
        image_terms   = ["PutItem", "DeleteItem"]
        image_history = ["PutItem", "GetItem"]
      }
      s3_read         = []
      s3_put          = []
      s3_delete       = ["trash/", "renditions/"]
      cognito         = []
      cursor_secret   = false
      invalidates_cdn = false
    }
    image_history = {
      route       = "GET /images/history/{id}"
      handler     = "images.api.trash.image_history"
      memory_size = 256
      timeout     = 29
      # The record (who may read the history), then a page of its entries.
      dynamodb        = { images = ["GetItem"], image_history = ["Query"] }
      s3_read         = []
      s3_put          = []
      s3_delete       = []
      cognito         = []
      cursor_secret   = true
      invalidates_cdn = false
    }
    create_user = {
      route       = "POST /users"
      handler     = "accounts.api.create_user"
      memory_size = 256
      timeout     = 15
      dynamodb    = {}
      s3_read     = []
      s3_put      = []
      s3_delete   = []
      # SignUp only, which IAM does not evaluate; the opted-in instant sign-up is confirmed by
      # the PreSignUp trigger.
      cognito         = []
      cursor_secret   = false
      invalidates_cdn = false
    }
    create_token = {
      route       = "POST /users/token"
      handler     = "accounts.api.create_token"
      memory_size = 256
      timeout     = 15
      # Sign-in attempts are metered per username and address (accounts/throttle.py; GetItem
      # words a refusal's Retry-After); the SRP sign-in itself (InitiateAuth,
      # RespondToAuthChallenge) needs no IAM.
      dynamodb        = { signin_attempts = ["UpdateItem", "DeleteItem", "GetItem"] }
      s3_read         = []
      s3_put          = []
      s3_delete       = []
      cognito         = []
      cursor_secret   = false
      invalidates_cdn = false
    }
  }

  function_names = { for key, _ in local.functions : key => "${local.lambda_prefix}-${replace(key, "_", "-")}" }
}

# ---------------------------------------------------------------------------------------
# Roles
# ---------------------------------------------------------------------------------------

resource "aws_iam_role" "lambda" {
  for_each = local.functions

  name               = local.function_names[each.key]
  description        = "Runs ${each.value.route} (${each.value.handler})"
  assume_role_policy = data.aws_iam_policy_document.assume["lambda"].json
}

data "aws_iam_policy_document" "lambda" {
  for_each = local.functions

  # The tables' key, only through DynamoDB, for the functions that use a table; the cursor
  # secret's, only through Secrets Manager (kms.tf). No kms:Decrypt for the function's
  # environment: Lambda decrypts it through its own grant.
  source_policy_documents = concat(
    length(each.value.dynamodb) > 0 ? [data.aws_iam_policy_document.kms_via_dynamodb.json] : [],
    each.value.cursor_secret ? [data.aws_iam_policy_document.kms_via_secretsmanager.json] : [],
  )

  # Its own log group only (created below, so no logs:CreateLogGroup).
  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda[each.key].arn}:*"]
  }

  dynamic "statement" {
    for_each = each.value.dynamodb
    content {
      actions   = [for action in statement.value : "dynamodb:${action}"]
      resources = [local.table_arns[statement.key]]
    }
  }

  # The object prefixes it reads, puts and deletes: one statement each, where it has any.
  dynamic "statement" {
    for_each = {
      for sid, access in {
        ReadObjects   = { action = "s3:GetObject", prefixes = each.value.s3_read }
        PutObjects    = { action = "s3:PutObject", prefixes = each.value.s3_put }
        DeleteObjects = { action = "s3:DeleteObject", prefixes = each.value.s3_delete }
      } : sid => access if length(access.prefixes) > 0
    }
    content {
      sid       = statement.key
      actions   = [statement.value.action]
      resources = [for prefix in statement.value.prefixes : "${aws_s3_bucket.images.arn}/${prefix}*"]
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

  # The key that signs list cursors (CURSOR_SECRET_ARN), encrypted with the system's key.
  dynamic "statement" {
    for_each = each.value.cursor_secret ? [1] : []
    content {
      sid       = "CursorSecret"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [aws_secretsmanager_secret.cursor_secret.arn]
    }
  }

  # Removed file versions leave the CDN at once (CLOUDFRONT_DISTRIBUTION_ID).
  dynamic "statement" {
    for_each = each.value.invalidates_cdn ? [1] : []
    content {
      sid       = "InvalidateImageCache"
      actions   = ["cloudfront:CreateInvalidation"]
      resources = [aws_cloudfront_distribution.images.arn]
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
  for_each = var.lambda_tracing_mode == "Active" ? toset(keys(local.functions)) : toset([])

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

  ephemeral_storage {
    size = lookup(each.value, "ephemeral_storage", 512)
  }

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
