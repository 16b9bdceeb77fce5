# Roles of Elastic Beanstalk: the service role, and the portal instances' profile, which may
# touch only this system's tables, bucket, pool and secret.

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

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "portal" {
  name               = "${var.project}-portal"
  description        = "The portal instances"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

# The platform's own needs: log streaming, health, X-Ray daemon, its deployment buckets.
resource "aws_iam_role_policy_attachment" "portal_web_tier" {
  role       = aws_iam_role.portal.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSElasticBeanstalkWebTier"
}

data "aws_iam_policy_document" "portal" {
  statement {
    sid = "Tables"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:BatchGetItem",
      "dynamodb:Query",
      "dynamodb:ConditionCheckItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:DescribeTable",
    ]
    resources = [
      aws_dynamodb_table.images.arn,
      "${aws_dynamodb_table.images.arn}/index/by_created",
      aws_dynamodb_table.image_terms.arn,
      aws_dynamodb_table.sessions.arn,
      aws_dynamodb_table.signin_attempts.arn,
    ]
  }

  # The sweep command (`manage.py` repair of half-made images) reads the whole catalog.
  statement {
    sid       = "SweepScansCatalog"
    actions   = ["dynamodb:Scan"]
    resources = [aws_dynamodb_table.images.arn, aws_dynamodb_table.image_terms.arn]
  }

  statement {
    sid       = "UseTableKeyThroughDynamoDB"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.main.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["dynamodb.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid     = "Objects"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [
      "${aws_s3_bucket.images.arn}/images/*",
      "${aws_s3_bucket.images.arn}/thumbnails/*",
      "${aws_s3_bucket.images.arn}/uploads/*",
      "${aws_s3_bucket.images.arn}/staging/*",
    ]
  }

  # The sweep command lists what a crash may have left behind.
  statement {
    sid       = "ListOwnPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.images.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["images/*", "thumbnails/*", "uploads/*", "staging/*"]
    }
  }

  # Sign-up, SRP sign-in, refresh, sign-out and password flows, plus the create_user
  # management command (AdminCreateUser, AdminSetUserPassword, AdminAddUserToGroup) and
  # the staff check (AdminListGroupsForUser).
  statement {
    sid = "UserPool"
    actions = [
      "cognito-idp:SignUp",
      "cognito-idp:ConfirmSignUp",
      "cognito-idp:ResendConfirmationCode",
      "cognito-idp:InitiateAuth",
      "cognito-idp:RespondToAuthChallenge",
      "cognito-idp:RevokeToken",
      "cognito-idp:GlobalSignOut",
      "cognito-idp:GetUser",
      "cognito-idp:ForgotPassword",
      "cognito-idp:ConfirmForgotPassword",
      "cognito-idp:ChangePassword",
      "cognito-idp:AdminCreateUser",
      "cognito-idp:AdminSetUserPassword",
      "cognito-idp:AdminAddUserToGroup",
      "cognito-idp:AdminListGroupsForUser",
      # A password reset and the disable_user command end every session of the user.
      "cognito-idp:AdminUserGlobalSignOut",
      "cognito-idp:AdminDisableUser",
    ]
    resources = [aws_cognito_user_pool.main.arn]
  }

  statement {
    sid       = "DjangoSecretKey"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.django_secret_key.arn]
  }

  statement {
    sid       = "DecryptDjangoSecretKey"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.main.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "ApplicationBundles"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.artifacts.arn}/portal/*"]
  }
}

resource "aws_iam_role_policy" "portal" {
  name   = "image-manager"
  role   = aws_iam_role.portal.id
  policy = data.aws_iam_policy_document.portal.json
}

resource "aws_iam_instance_profile" "portal" {
  name = "${var.project}-portal"
  role = aws_iam_role.portal.name
}
