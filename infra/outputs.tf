output "portal_url" {
  description = "The portal."
  value       = "https://${local.portal_host}"
}

output "api_url" {
  description = "Base URL of the REST API (append /images, /users, ...)."
  value       = aws_api_gateway_stage.main.invoke_url
}

output "images_base_url" {
  description = "Public base URL of the image objects (IMAGES_BASE_URL)."
  value       = local.images_base_url
}

output "cloudfront_distribution_id" {
  description = "CloudFront distribution serving the images (for invalidations)."
  value       = aws_cloudfront_distribution.images.id
}

output "cloudfront_domain_name" {
  description = "CloudFront's own domain for the images."
  value       = aws_cloudfront_distribution.images.domain_name
}

output "cognito_user_pool_id" {
  description = "COGNITO_USER_POOL_ID."
  value       = aws_cognito_user_pool.main.id
}

output "cognito_client_id" {
  description = "COGNITO_CLIENT_ID (the portal and POST /users/token)."
  value       = aws_cognito_user_pool_client.portal.id
}

output "cognito_jwks_url" {
  description = "The pool's JWKS (COGNITO_JWKS_URL)."
  value       = local.cognito_jwks_url
}

output "cognito_staff_group" {
  description = "COGNITO_STAFF_GROUP."
  value       = aws_cognito_user_group.staff.name
}

output "images_table" {
  description = "IMAGES_TABLE."
  value       = aws_dynamodb_table.images.name
}

output "image_terms_table" {
  description = "IMAGE_TERMS_TABLE."
  value       = aws_dynamodb_table.image_terms.name
}

output "image_history_table" {
  description = "HISTORY_TABLE."
  value       = aws_dynamodb_table.image_history.name
}

output "sessions_table" {
  description = "SESSIONS_TABLE."
  value       = aws_dynamodb_table.expiring["sessions"].name
}

output "signin_attempts_table" {
  description = "SIGNIN_ATTEMPTS_TABLE."
  value       = aws_dynamodb_table.expiring["signin_attempts"].name
}

output "exports_table" {
  description = "EXPORTS_TABLE."
  value       = aws_dynamodb_table.expiring["exports"].name
}

output "images_bucket" {
  description = "IMAGES_BUCKET."
  value       = aws_s3_bucket.images.id
}

output "logs_bucket" {
  description = "S3 server access logs of the image and artifact buckets."
  value       = aws_s3_bucket.logs.id
}

output "artifacts_bucket" {
  description = "Bucket of the Beanstalk source bundles (upload new versions under portal/)."
  value       = aws_s3_bucket.artifacts.id
}

output "eb_application_name" {
  description = "Beanstalk application (for create-application-version)."
  value       = aws_elastic_beanstalk_application.portal.name
}

output "eb_environment_name" {
  description = "Beanstalk environment (for update-environment)."
  value       = aws_elastic_beanstalk_environment.portal.name
}

output "eb_environment_cname" {
  description = "The environment's own CNAME (image-site.<domain> points at it)."
  value       = aws_elastic_beanstalk_environment.portal.cname
}

output "lambda_function_names" {
  description = "Function of each API operation."
  value       = { for key, function in aws_lambda_function.api : key => function.function_name }
}

output "django_secret_key_arn" {
  description = "Secrets Manager secret holding DJANGO_SECRET_KEY."
  value       = aws_secretsmanager_secret.django_secret_key.arn
}

output "region" {
  description = "AWS_REGION of the system."
  value       = local.region
}

output "maintenance_function_name" {
  description = "Function of the scheduled sweep (run it by hand with `aws lambda invoke`)."
  value       = aws_lambda_function.maintenance.function_name
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies (subscribe more endpoints to it)."
  value       = aws_sns_topic.alarms.arn
}

output "kms_key_arn" {
  description = "The system's KMS key (tables, secret, Lambda environment, logs): restored tables are encrypted with it."
  value       = aws_kms_key.main.arn
}
