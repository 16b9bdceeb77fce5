data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  portal_host = "${var.portal_subdomain}.${var.domain_name}"
  images_host = var.images_subdomain == "" ? "" : "${var.images_subdomain}.${var.domain_name}"

  images_bucket_name = var.images_bucket_name != "" ? var.images_bucket_name : "${var.project}-images-${local.account_id}"

  # The public base of every object_url: the CloudFront domain (or its alias).
  images_base_url = "https://${local.images_host != "" ? local.images_host : aws_cloudfront_distribution.images.domain_name}"

  cognito_issuer   = "https://cognito-idp.${local.region}.amazonaws.com/${aws_cognito_user_pool.main.id}"
  cognito_jwks_url = "${local.cognito_issuer}/.well-known/jwks.json"

  # The environment variables of common/config.py, the same names for every Lambda function
  # and for Beanstalk. AWS_REGION is set by the Lambda runtime itself (a reserved name there),
  # so it is added for Beanstalk only (beanstalk.tf); AWS_ENDPOINT_URL is local-only and never set in AWS.
  core_environment = {
    IMAGES_TABLE                     = aws_dynamodb_table.images.name
    IMAGE_TERMS_TABLE                = aws_dynamodb_table.image_terms.name
    SESSIONS_TABLE                   = aws_dynamodb_table.expiring["sessions"].name
    SIGNIN_ATTEMPTS_TABLE            = aws_dynamodb_table.expiring["signin_attempts"].name
    EXPORTS_TABLE                    = aws_dynamodb_table.expiring["exports"].name
    HISTORY_TABLE                    = aws_dynamodb_table.image_history.name
    TRASH_RETENTION_DAYS             = tostring(var.trash_retention_days)
    IDEMPOTENCY_TABLE                = aws_dynamodb_table.expiring["idempotency"].name
    CLOUDFRONT_DISTRIBUTION_ID       = aws_cloudfront_distribution.images.id
    IMAGES_BUCKET                    = aws_s3_bucket.images.id
    IMAGES_BASE_URL                  = local.images_base_url
    COGNITO_USER_POOL_ID             = aws_cognito_user_pool.main.id
    COGNITO_CLIENT_ID                = aws_cognito_user_pool_client.portal.id
    COGNITO_JWKS_URL                 = local.cognito_jwks_url
    COGNITO_STAFF_GROUP              = aws_cognito_user_group.staff.name
    API_SIGNUP_REQUIRES_CONFIRMATION = var.api_signup_requires_confirmation ? "true" : "false"
    IMAGE_MAX_BYTES                  = tostring(var.image_max_bytes)
    IMAGE_MAX_PIXELS                 = tostring(var.image_max_pixels)
    SIGNIN_MAX_FAILURES_PER_PAIR     = tostring(var.signin_max_failures_per_pair)
    SIGNIN_MAX_FAILURES_PER_USER     = tostring(var.signin_max_failures_per_user)
    SIGNIN_MAX_FAILURES_PER_ADDRESS  = tostring(var.signin_max_failures_per_address)
    SIGNIN_WINDOW_SECONDS            = tostring(var.signin_window_seconds)
  }

  # API Gateway puts the caller's address in X-Forwarded-For: one hop in front of Lambda.
  lambda_only_environment = {
    TRUSTED_PROXY_HOPS = "1"
    CURSOR_SECRET_ARN  = aws_secretsmanager_secret.cursor_secret.arn
  }
  lambda_environment = merge(local.core_environment, local.lambda_only_environment)
}
