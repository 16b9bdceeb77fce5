# ---------------------------------------------------------------------------------------
# General
# ---------------------------------------------------------------------------------------

variable "project" {
  description = "Name prefix of every resource."
  type        = string
  default     = "image-manager"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.project))
    error_message = "project: 3-31 lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "aws_region" {
  description = "Region of everything but the CloudFront certificate (always us-east-1)."
  type        = string
  default     = "us-east-1"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------
# DNS
# ---------------------------------------------------------------------------------------

variable "domain_name" {
  description = "The organisation's domain (a public Route 53 hosted zone of that name must exist), e.g. example.org."
  type        = string
}

variable "portal_subdomain" {
  description = "The portal is served at <portal_subdomain>.<domain_name> (the seed's image-site)."
  type        = string
  default     = "image-site"
}

variable "images_subdomain" {
  description = "Image objects are served at <images_subdomain>.<domain_name> through CloudFront; empty to use the CloudFront domain."
  type        = string
  default     = "images"
}

# ---------------------------------------------------------------------------------------
# Network (an existing VPC; subnets in at least two availability zones)
# ---------------------------------------------------------------------------------------

variable "vpc_id" {
  description = "VPC of the Beanstalk environment."
  type        = string
}

variable "instance_subnet_ids" {
  description = "Subnets of the portal instances, in at least two availability zones (private subnets with a NAT route, or public ones with associate_public_ip = true)."
  type        = list(string)

  validation {
    condition     = length(var.instance_subnet_ids) >= 2
    error_message = "Give at least two subnets, in different availability zones."
  }
}

variable "elb_subnet_ids" {
  description = "Public subnets of the Application Load Balancer, in at least two availability zones."
  type        = list(string)

  validation {
    condition     = length(var.elb_subnet_ids) >= 2
    error_message = "Give at least two subnets, in different availability zones."
  }
}

variable "associate_public_ip" {
  description = "Give the portal instances public IPs (only when instance_subnet_ids are public subnets without NAT)."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------

variable "images_table_name" {
  description = "DynamoDB table of image records (IMAGES_TABLE); empty for <project>-images (a restore's switch sets it: docs/deploy.md)."
  type        = string
  default     = ""
}

variable "image_terms_table_name" {
  description = "DynamoDB table of search postings (IMAGE_TERMS_TABLE); empty for <project>-image-terms (a restore's switch sets it: docs/deploy.md)."
  type        = string
  default     = ""
}

variable "sessions_table_name" {
  description = "DynamoDB table of portal sessions (SESSIONS_TABLE); empty for <project>-sessions (a restore's switch sets it: docs/deploy.md)."
  type        = string
  default     = ""
}

variable "signin_attempts_table_name" {
  description = "DynamoDB table of failed sign-in counters (SIGNIN_ATTEMPTS_TABLE); empty for <project>-signin-attempts (a restore's switch sets it: docs/deploy.md)."
  type        = string
  default     = ""
}

variable "exports_table_name" {
  description = "DynamoDB table of the portal's export jobs (EXPORTS_TABLE); empty for <project>-exports (a restore's switch sets it: docs/deploy.md)."
  type        = string
  default     = ""
}

variable "image_history_table_name" {
  description = "DynamoDB table of image history entries (HISTORY_TABLE); empty for <project>-image-history (a restore's switch sets it: docs/deploy.md)."
  type        = string
  default     = ""
}

variable "idempotency_table_name" {
  description = "DynamoDB table of idempotency records (IDEMPOTENCY_TABLE); empty for <project>-idempotency (a restore's switch sets it: docs/deploy.md)."
  type        = string
  default     = ""
}

variable "cursor_secret_version" {
  description = "Bump to rotate the secret that signs list cursors (cursors handed out before stop working; nothing else)."
  type        = number
  default     = 1
}

variable "dynamodb_billing_mode" {
  description = "PAY_PER_REQUEST (default: no idle cost, no throttling to tune for a catalog's bursty traffic) or PROVISIONED (the seed's 5/5)."
  type        = string
  default     = "PAY_PER_REQUEST"

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.dynamodb_billing_mode)
    error_message = "dynamodb_billing_mode: PAY_PER_REQUEST or PROVISIONED."
  }
}

variable "dynamodb_read_capacity" {
  description = "Read capacity units of each table and index when PROVISIONED."
  type        = number
  default     = 5
}

variable "dynamodb_write_capacity" {
  description = "Write capacity units of each table and index when PROVISIONED."
  type        = number
  default     = 5
}

variable "deletion_protection" {
  description = "Protect the tables and the user pool from deletion, and the logs bucket from a destroy that empties it (turn off only to tear a stack down)."
  type        = bool
  default     = true
}

variable "images_bucket_name" {
  description = "S3 bucket of the image objects (IMAGES_BUCKET); empty for <project>-images-<account id>."
  type        = string
  default     = ""
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted object version of the image bucket is kept before S3 removes it; at least the tables' 35 days of point-in-time recovery, so a restore finds the files of its minute."
  type        = number
  default     = 35

  validation {
    condition     = var.noncurrent_version_expiration_days >= 35
    error_message = "noncurrent_version_expiration_days: at least 35, the tables' point-in-time recovery window (a restore needs the files of its minute)."
  }
}

# ---------------------------------------------------------------------------------------
# Application settings (the environment variables of common/config.py)
# ---------------------------------------------------------------------------------------

variable "cognito_user_pool_name" {
  description = "Name of the Cognito user pool; empty for <project> (accounts/pool.py POOL_NAME for the default project)."
  type        = string
  default     = ""
}

variable "cognito_client_name" {
  description = "Name of the app client used by the portal and POST /users/token; empty for <project>-portal (accounts/pool.py PORTAL_CLIENT_NAME for the default project)."
  type        = string
  default     = ""
}

variable "staff_group_name" {
  description = "Cognito group whose members are staff in the portal (COGNITO_STAFF_GROUP)."
  type        = string
  default     = "staff"
}

variable "api_signup_requires_confirmation" {
  description = "POST /users leaves new users unconfirmed until they enter the emailed code (API_SIGNUP_REQUIRES_CONFIRMATION), as the portal does; false opts in to the seed's instant sign-up, confirmed without mail by the PreSignUp trigger (infra/triggers.tf)."
  type        = bool
  default     = true
}

variable "cognito_token_validity_minutes" {
  description = "Lifetime of the ID and access tokens in minutes. Cognito cannot revoke an issued ID token, so this bounds how long one outlives a password change, a reset or a disable (README, Security model)."
  type        = number
  default     = 15

  validation {
    condition     = var.cognito_token_validity_minutes >= 5 && var.cognito_token_validity_minutes <= 60
    error_message = "cognito_token_validity_minutes: 5 (Cognito's minimum) to 60."
  }
}

variable "image_max_bytes" {
  description = "Largest accepted image file in bytes (IMAGE_MAX_BYTES); such files go straight to S3 through presigned uploads. The API's base64 body limit is lower (6 MB Lambda payload)."
  type        = number
  default     = 209715200
}

variable "image_max_pixels" {
  description = "Largest accepted image in pixels (IMAGE_MAX_PIXELS): decompression bombs are refused."
  type        = number
  default     = 50000000
}

variable "signin_max_failures_per_pair" {
  description = "Failed sign-ins allowed per (username, client address) in a window (SIGNIN_MAX_FAILURES_PER_PAIR)."
  type        = number
  default     = 5
}

variable "signin_max_failures_per_user" {
  description = "Failed sign-ins allowed per username from any address in a window (SIGNIN_MAX_FAILURES_PER_USER)."
  type        = number
  default     = 20
}

variable "signin_max_failures_per_address" {
  description = "Sign-in failures allowed per client address over all usernames in a window (SIGNIN_MAX_FAILURES_PER_ADDRESS): high, so an office behind one address is not locked out."
  type        = number
  default     = 100
}

variable "signin_window_seconds" {
  description = "Length of the sign-in rate-limit window in seconds (SIGNIN_WINDOW_SECONDS)."
  type        = number
  default     = 900
}

variable "django_secret_key_version" {
  description = "Bump to generate a new DJANGO_SECRET_KEY (signs out every portal user)."
  type        = number
  default     = 1
}

variable "secret_recovery_window_days" {
  description = "Days a destroyed secret can be restored, during which its name cannot be reused (a new apply of the same project fails on CreateSecret); 0 deletes at once (test stacks only)."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days: 0, or 7 to 30 (the Secrets Manager limits)."
  }
}

# ---------------------------------------------------------------------------------------
# Lambda and API Gateway
# ---------------------------------------------------------------------------------------

variable "lambda_code_zip" {
  description = "Zip of the Django-free code and the Lambda handlers (built by `make bundle`)."
  type        = string
  default     = "../dist/lambda-code.zip"
}

variable "lambda_layer_zip" {
  description = "Zip of the dependency layer, requirements/lambda.txt under python/ (built by `make bundle`)."
  type        = string
  default     = "../dist/lambda-layer.zip"
}

variable "lambda_runtime" {
  description = "Python runtime of the functions and the layer: the one `make bundle` builds the layer's binary wheels for (scripts/bundle.py LAYER_PYTHON)."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.12"], var.lambda_runtime)
    error_message = "lambda_runtime: python3.12, the Python scripts/bundle.py builds the layer's wheels for (change LAYER_PYTHON there first)."
  }
}

variable "lambda_tracing_mode" {
  description = "X-Ray tracing of the functions: Active, or PassThrough to trace only requests API Gateway already traces."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.lambda_tracing_mode)
    error_message = "lambda_tracing_mode: Active or PassThrough."
  }
}

variable "log_retention_days" {
  description = "Retention of the Lambda, API Gateway and Beanstalk log groups."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days: one of CloudWatch Logs' allowed values (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "api_stage_name" {
  description = "Name of the API Gateway stage (the first path segment of the API URL)."
  type        = string
  default     = "v1"
}

variable "api_throttling_rate_limit" {
  description = "Steady-state requests per second allowed on the API stage."
  type        = number
  default     = 50
}

variable "api_throttling_burst_limit" {
  description = "Burst of requests allowed on the API stage."
  type        = number
  default     = 100
}

variable "api_signup_throttling_rate_limit" {
  description = "Steady-state requests per second allowed on POST /users (below the stage's)."
  type        = number
  default     = 1
}

variable "api_signup_throttling_burst_limit" {
  description = "Burst of requests allowed on POST /users."
  type        = number
  default     = 5
}

variable "api_signin_throttling_rate_limit" {
  description = "Steady-state requests per second allowed on POST /users/token (below the stage's)."
  type        = number
  default     = 5
}

variable "api_signin_throttling_burst_limit" {
  description = "Burst of requests allowed on POST /users/token."
  type        = number
  default     = 10
}

# ---------------------------------------------------------------------------------------
# Elastic Beanstalk
# ---------------------------------------------------------------------------------------

variable "solution_stack_name" {
  description = "Beanstalk platform the portal environment is created with, chosen on purpose, e.g. \"64bit Amazon Linux 2023 v4.7.0 running Python 3.12\" (list them with `aws elasticbeanstalk list-available-solution-stacks`). Later platform releases come through managed updates or an upgrade on purpose (docs/deploy.md), never through a plan."
  type        = string

  validation {
    condition     = can(regex("^64bit Amazon Linux 2023 v[0-9]+\\.[0-9]+\\.[0-9]+ running Python 3\\.12$", var.solution_stack_name))
    error_message = "solution_stack_name: a \"64bit Amazon Linux 2023 v<version> running Python 3.12\" stack (environment secrets need a version from 2025-03-26 on)."
  }
}

variable "portal_bundle_zip" {
  description = "Beanstalk source bundle of the first application version (built by `make bundle`); later versions are deployed as docs/deploy.md says."
  type        = string
  default     = "../dist/portal-bundle.zip"
}

variable "instance_type" {
  description = "EC2 instance type of the portal (the seed's t3.medium)."
  type        = string
  default     = "t3.medium"
}

variable "min_instances" {
  description = "Fewest portal instances (at least 2, in different availability zones)."
  type        = number
  default     = 2

  validation {
    condition     = var.min_instances >= 2
    error_message = "min_instances: at least 2, so the portal survives the loss of an instance or a zone."
  }
}

variable "max_instances" {
  description = "Most portal instances the CPU triggers may scale out to."
  type        = number
  default     = 4

  validation {
    condition     = var.max_instances >= var.min_instances
    error_message = "max_instances: at least min_instances."
  }
}

variable "app_versions_to_keep" {
  description = "Application versions Beanstalk keeps for rollback (older ones are deleted, their bundles stay in S3)."
  type        = number
  default     = 30
}

# ---------------------------------------------------------------------------------------
# Scheduled sweep (maintenance.tf)
# ---------------------------------------------------------------------------------------

variable "maintenance_schedule" {
  description = "EventBridge schedule expression of the sweep that repairs what a crash left behind, e.g. rate(1 day), rate(6 hours) or cron(0 3 * * ? *) (UTC)."
  type        = string
  default     = "rate(1 day)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.maintenance_schedule))
    error_message = "maintenance_schedule: an EventBridge rate(...) or cron(...) expression."
  }
}

variable "sweep_grace_minutes" {
  description = "The sweep leaves unreferenced objects younger than this alone, since a write in progress puts its objects before its record (SWEEP_GRACE_MINUTES)."
  type        = number
  default     = 60

  validation {
    condition     = var.sweep_grace_minutes >= 30
    error_message = "sweep_grace_minutes: at least 30 (a presigned upload is valid for 15 minutes before its image is registered), or the sweep could delete the file of an image being created."
  }
}

variable "sweep_repair" {
  description = "The scheduled sweep repairs what it finds (SWEEP_REPAIR); false only reports it in the function's log."
  type        = bool
  default     = true
}

variable "maintenance_timeout" {
  description = "Timeout in seconds of the sweep function: it scans the image table and lists the bucket, so give it the Lambda maximum unless the catalog is small."
  type        = number
  default     = 900

  validation {
    condition     = var.maintenance_timeout >= 60 && var.maintenance_timeout <= 900
    error_message = "maintenance_timeout: 60 to 900 seconds (the Lambda maximum)."
  }
}

variable "maintenance_memory_size" {
  description = "Memory in MB of the sweep function (it holds every referenced key in memory; Lambda's CPU grows with memory)."
  type        = number
  default     = 1024

  validation {
    condition     = var.maintenance_memory_size >= 128 && var.maintenance_memory_size <= 10240
    error_message = "maintenance_memory_size: 128 to 10240 MB."
  }
}

# ---------------------------------------------------------------------------------------
# Alarms (alarms.tf)
# ---------------------------------------------------------------------------------------

variable "alarm_email" {
  description = "Address subscribed to the alarm topic (AWS mails a confirmation link first); empty for no subscription."
  type        = string
  default     = ""

  validation {
    condition     = var.alarm_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email: an email address, or empty."
  }
}

variable "trash_retention_days" {
  description = "Days a deleted image stays in the trash before the scheduled sweep purges it for good (TRASH_RETENTION_DAYS)."
  type        = number
  default     = 30

  validation {
    condition     = var.trash_retention_days >= 1
    error_message = "trash_retention_days must be at least 1."
  }
}
