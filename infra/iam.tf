# The trust policy of the system's roles, and the roles of Elastic Beanstalk: the service role,
# and the portal instances' profile, which may touch only this system's tables, bucket, pool
# and secret.

# A role of an AWS service (Lambda's functions, the portal's instances, API Gateway's logging):
# only that service may assume it. Beanstalk's service role, which also names an external id,
# has its own below.
data "aws_iam_policy_document" "assume" {
  for_each = toset(["lambda", "ec2", "apigateway"])

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["${each.key}.amazonaws.com"]
    }
  }
}

# ---------------------------------------------------------------------------------------
# Service role (health reporting, managed platform updates, version lifecycle)
# ---------------------------------------------------------------------------------------

data "aws_iam_policy_document" "eb_service_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["elasticbeanstalk.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = ["elasticbeanstalk"]
    }
  }
}

resource "aws_iam_role" "eb_service" {
  name               = "${var.project}-eb-service"
  description        = "Elastic Beanstalk manages the portal environment"
  assume_role_policy = data.aws_iam_policy_document.eb_service_assume.json
}

resource "aws_iam_role_policy_attachment" "eb_service" {
  for_each = toset([
    "service-role/AWSElasticBeanstalkEnhancedHealth",
    "AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy",
  ])

  role       = aws_iam_role.eb_service.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.key}"
}

# ---------------------------------------------------------------------------------------
# Instance profile of the portal
# ---------------------------------------------------------------------------------------

resource "aws_iam_role" "portal" {
  name               = "${var.project}-portal"
  description        = "The portal instances"
  assume_role_policy = data.aws_iam_policy_document.assume["ec2"].json
}

# The platform's own needs: log streaming, health, X-Ray daemon, its deployment buckets;
# and Session Manager, the operator's only way onto an instance (no key pair, no SSH port:
# docs/deploy.md, "The first staff user").
resource "aws_iam_role_policy_attachment" "portal_platform" {
  for_each = toset(["AWSElasticBeanstalkWebTier", "AmazonSSMManagedInstanceCore"])

  role       = aws_iam_role.portal.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.key}"
}

locals {
  # Per table or index (local.table_arns), exactly what the portal's code calls
  # (tests/infra/test_permissions.py runs the portal's pages and commands against this policy).
  portal_dynamodb = {
    # Read one or a page of records, versioned writes (in transactions), the sweep command's Scan.
    images            = ["GetItem", "BatchGetItem", "PutItem", "DeleteItem", "Scan"]
    images_by_created = ["Query"]
    # Postings and facet and term counters (a search reads its clauses' counters in a batch).
    image_terms = ["Query", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem"]
    # One history entry per change (in the change's transaction); one read settles a lost
    # reply; an image's History page queries its entries.
    image_history = ["PutItem", "GetItem", "Query"]
    # "Recent actions" on the home page: the signed-in person's latest entries.
    image_history_by_actor = ["Query"]
    # The add form's one-time token (Powertools' idempotency records: a conditional put that
    # hands back a replay's record, the answer saved, the record dropped after a failure).
    idempotency = ["PutItem", "UpdateItem", "DeleteItem"]
    sessions    = ["GetItem", "PutItem", "DeleteItem"]
    # Export jobs (images/export_jobs.py): recorded, their progress updated, read back.
    exports = ["GetItem", "PutItem", "UpdateItem"]
    # Sign-in attempts metered per username and address (accounts/throttle.py; GetItem words
    # a refusal's "Try again in N minutes").
    signin_attempts = ["UpdateItem", "DeleteItem", "GetItem"]
  }
}

data "aws_iam_policy_document" "portal" {
  # The tables' key, only through DynamoDB, and the secrets' key, only through Secrets
  # Manager (kms.tf).
  source_policy_documents = [
    data.aws_iam_policy_document.kms_via_dynamodb.json,
    data.aws_iam_policy_document.kms_via_secretsmanager.json,
  ]

  dynamic "statement" {
    for_each = local.portal_dynamodb
    content {
      actions   = [for action in statement.value : "dynamodb:${action}"]
      resources = [local.table_arns[statement.key]]
    }
  }

  # Files and thumbnails: each version stored under its own keys, read for the zip download
  # and copied to the trash by a delete, deleted once no record points at it.
  statement {
    sid     = "Objects"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [
      "${aws_s3_bucket.images.arn}/images/*",
      "${aws_s3_bucket.images.arn}/thumbnails/*",
    ]
  }

  # A removed file version's renditions (images/media/renditions.py) go with it.
  statement {
    sid       = "Renditions"
    actions   = ["s3:DeleteObject"]
    resources = ["${aws_s3_bucket.images.arn}/renditions/*"]
  }

  # The trash (private): copies put by a delete, read back by a restore and the Trash page's
  # thumbnails, removed by a restore or a purge.
  statement {
    sid       = "Trash"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.images.arn}/trash/*"]
  }

  # Exports built off the request path (images/export_jobs.py): a multipart upload, read
  # back through presigned links; an export that fails is aborted.
  statement {
    sid       = "Exports"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${aws_s3_bucket.images.arn}/exports/*"]
  }

  # A delete or a file replacement takes the old objects out of the CDN at once.
  statement {
    sid       = "InvalidateImageCache"
    actions   = ["cloudfront:CreateInvalidation"]
    resources = [aws_cloudfront_distribution.images.arn]
  }

  # The add page's direct uploads: the portal signs the presigned POST (S3 authorises the
  # browser's post as the signer), reads the stored file to prefill the form and to register
  # it, then deletes it; the sweep command deletes abandoned ones.
  statement {
    sid       = "Uploads"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.images.arn}/uploads/*"]
  }

  # The sweep command lists what a crash may have left behind, and its repair asks whether a
  # file is there (HeadObject). No s3:prefix condition: S3 answers a HeadObject of a missing
  # key with 404 only to a caller allowed s3:ListBucket, and that request carries no
  # s3:prefix, so a condition turns the 404 into a 403 (objects.exists raises it). The
  # bucket holds only this system's prefixes.
  statement {
    sid       = "ListBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.images.arn]
  }

  # No page creates users or adds them to groups: the first staff user is the operator's
  # work, with the AWS CLI (docs/deploy.md, "The first staff user"). Sign-up, the SRP
  # sign-in, refresh, sign-out and the password flows need no IAM: Cognito authorises them by
  # the app client or the user's own tokens, never by IAM policies.
  statement {
    sid = "UserPool"
    actions = [
      # A password change or reset and the disable_user command end every session of the user.
      "cognito-idp:AdminUserGlobalSignOut",
      "cognito-idp:AdminDisableUser",
    ]
    resources = [aws_cognito_user_pool.main.arn]
  }

  # Beanstalk reads the environment secrets (DJANGO_SECRET_KEY, CURSOR_SECRET) as the instance.
  statement {
    sid       = "EnvironmentSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.django_secret_key.arn, aws_secretsmanager_secret.cursor_secret.arn]
  }

  statement {
    sid       = "ApplicationBundles"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.artifacts.arn}/portal/*"]
  }
}

resource "aws_iam_role_policy" "portal" {
  name   = var.project
  role   = aws_iam_role.portal.id
  policy = data.aws_iam_policy_document.portal.json
}

resource "aws_iam_instance_profile" "portal" {
  name = "${var.project}-portal"
  role = aws_iam_role.portal.name
}

# The web tier attachment became one of portal_platform's: keep it, no detach on apply.
moved {
  from = aws_iam_role_policy_attachment.portal_web_tier
  to   = aws_iam_role_policy_attachment.portal_platform["AWSElasticBeanstalkWebTier"]
}
