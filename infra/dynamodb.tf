# The tables exactly as the PynamoDB models declare them (images/records.py,
# accounts/records.py); tests/infra checks the two agree.

locals {
  provisioned = var.dynamodb_billing_mode == "PROVISIONED"
}

resource "aws_dynamodb_table" "images" {
  name                        = var.images_table_name
  billing_mode                = var.dynamodb_billing_mode
  read_capacity               = local.provisioned ? var.dynamodb_read_capacity : null
  write_capacity              = local.provisioned ? var.dynamodb_write_capacity : null
  hash_key                    = "id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "id"
    type = "S"
  }

  attribute {
    name = "listed"
    type = "S"
  }

  attribute {
    name = "created_key"
    type = "S"
  }

  # Every READY image, newest first (sparse: only READY images carry `listed`).
  global_secondary_index {
    name            = "by_created"
    hash_key        = "listed"
    range_key       = "created_key"
    projection_type = "ALL"
    read_capacity   = local.provisioned ? var.dynamodb_read_capacity : null
    write_capacity  = local.provisioned ? var.dynamodb_write_capacity : null
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

resource "aws_dynamodb_table" "image_terms" {
  name                        = var.image_terms_table_name
  billing_mode                = var.dynamodb_billing_mode
  read_capacity               = local.provisioned ? var.dynamodb_read_capacity : null
  write_capacity              = local.provisioned ? var.dynamodb_write_capacity : null
  hash_key                    = "term"
  range_key                   = "sort_key"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "term"
    type = "S"
  }

  attribute {
    name = "sort_key"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

resource "aws_dynamodb_table" "sessions" {
  name                        = var.sessions_table_name
  billing_mode                = var.dynamodb_billing_mode
  read_capacity               = local.provisioned ? var.dynamodb_read_capacity : null
  write_capacity              = local.provisioned ? var.dynamodb_write_capacity : null
  hash_key                    = "session_key"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "session_key"
    type = "S"
  }

  # Expired sessions disappear by themselves (readers also ignore an expired item).
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

resource "aws_dynamodb_table" "signin_attempts" {
  name                        = var.signin_attempts_table_name
  billing_mode                = var.dynamodb_billing_mode
  read_capacity               = local.provisioned ? var.dynamodb_read_capacity : null
  write_capacity              = local.provisioned ? var.dynamodb_write_capacity : null
  hash_key                    = "key"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "key"
    type = "S"
  }

  # A window's failure counter is useless once the window is over.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

# The portal's export jobs (images/export_jobs.py): progress of a CSV or zip being built
# into S3 off the request path; a job record is useless once its file has expired.
resource "aws_dynamodb_table" "exports" {
  name                        = var.exports_table_name
  billing_mode                = var.dynamodb_billing_mode
  read_capacity               = local.provisioned ? var.dynamodb_read_capacity : null
  write_capacity              = local.provisioned ? var.dynamodb_write_capacity : null
  hash_key                    = "id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

# One entry per change of an image (images.records.ImageHistory), written in the change's own
# transaction; never updated or deleted by the product.
resource "aws_dynamodb_table" "image_history" {
  name                        = var.image_history_table_name
  billing_mode                = var.dynamodb_billing_mode
  read_capacity               = local.provisioned ? var.dynamodb_read_capacity : null
  write_capacity              = local.provisioned ? var.dynamodb_write_capacity : null
  hash_key                    = "image_id"
  range_key                   = "version"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "image_id"
    type = "S"
  }

  attribute {
    name = "version"
    type = "N"
  }

  attribute {
    name = "actor_sub"
    type = "S"
  }

  attribute {
    name = "at"
    type = "S"
  }

  # "Recent actions": each person's entries by time. Keyed per person, not one "recent"
  # partition for everyone: a throttled index partition throttles the table's writes, i.e.
  # every change's transaction (images/records.py ByActorIndex).
  global_secondary_index {
    name            = "by_actor"
    hash_key        = "actor_sub"
    range_key       = "at"
    projection_type = "ALL"
    read_capacity   = local.provisioned ? var.dynamodb_read_capacity : null
    write_capacity  = local.provisioned ? var.dynamodb_write_capacity : null
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

# Powertools' idempotency records (images.records.IdempotencyRecord): a retried POST /images
# with the same Idempotency-Key is one image. Expire after 24 hours.
resource "aws_dynamodb_table" "idempotency" {
  name                        = var.idempotency_table_name
  billing_mode                = var.dynamodb_billing_mode
  read_capacity               = local.provisioned ? var.dynamodb_read_capacity : null
  write_capacity              = local.provisioned ? var.dynamodb_write_capacity : null
  hash_key                    = "id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = "expiration"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}
