# The tables exactly as the PynamoDB models declare them (images/records.py,
# accounts/records.py); tests/infra checks the two agree.

locals {
  # <project>-<table>, so two stacks (two `project`s) fit one account; a *_table_name
  # variable names one table otherwise (the switch to a restored table, docs/deploy.md).
  table_names = {
    images          = var.images_table_name != "" ? var.images_table_name : "${var.project}-images"
    image_terms     = var.image_terms_table_name != "" ? var.image_terms_table_name : "${var.project}-image-terms"
    image_history   = var.image_history_table_name != "" ? var.image_history_table_name : "${var.project}-image-history"
    sessions        = var.sessions_table_name != "" ? var.sessions_table_name : "${var.project}-sessions"
    signin_attempts = var.signin_attempts_table_name != "" ? var.signin_attempts_table_name : "${var.project}-signin-attempts"
    exports         = var.exports_table_name != "" ? var.exports_table_name : "${var.project}-exports"
    idempotency     = var.idempotency_table_name != "" ? var.idempotency_table_name : "${var.project}-idempotency"
  }

  # Capacity units of each table and index, in PROVISIONED mode only.
  table_read_capacity  = var.dynamodb_billing_mode == "PROVISIONED" ? var.dynamodb_read_capacity : null
  table_write_capacity = var.dynamodb_billing_mode == "PROVISIONED" ? var.dynamodb_write_capacity : null

  # The tables of one string key whose items expire: DynamoDB's TTL deletes them (readers also
  # ignore an expired item). Everything else is as for every table.
  expiring_tables = {
    # The portal's Django sessions (accounts.records.SessionRecord).
    sessions = { name = local.table_names["sessions"], hash_key = "session_key", ttl_attribute = "expires_at" }
    # A window's failure counter is useless once the window is over.
    signin_attempts = { name = local.table_names["signin_attempts"], hash_key = "key", ttl_attribute = "expires_at" }
    # The portal's export jobs (images/export_jobs.py): progress of a CSV or zip being built
    # into S3 off the request path; a job record is useless once its file has expired.
    exports = { name = local.table_names["exports"], hash_key = "id", ttl_attribute = "expires_at" }
    # Powertools' idempotency records (images.records.IdempotencyRecord): a retried POST /images
    # with the same Idempotency-Key is one image. Expire after 24 hours.
    idempotency = { name = local.table_names["idempotency"], hash_key = "id", ttl_attribute = "expiration" }
  }

  # The ARN a policy names for each table, or index (a Query on an index is authorised on the
  # index's ARN): the keys of a function's `dynamodb` map (lambda.tf) and of the portal's (iam.tf).
  table_arns = merge({ for key, _ in local.expiring_tables : key => aws_dynamodb_table.expiring[key].arn }, {
    images                 = aws_dynamodb_table.images.arn
    images_by_created      = "${aws_dynamodb_table.images.arn}/index/by_created"
    image_terms            = aws_dynamodb_table.image_terms.arn
    image_history          = aws_dynamodb_table.image_history.arn
    image_history_by_actor = "${aws_dynamodb_table.image_history.arn}/index/by_actor"
  })
}

resource "aws_dynamodb_table" "images" {
  name                        = local.table_names["images"]
  billing_mode                = var.dynamodb_billing_mode
  read_capacity               = local.table_read_capacity
  write_capacity              = local.table_write_capacity
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
    read_capacity   = local.table_read_capacity
    write_capacity  = local.table_write_capacity
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
  name                        = local.table_names["image_terms"]
  billing_mode                = var.dynamodb_billing_mode
  read_capacity               = local.table_read_capacity
  write_capacity              = local.table_write_capacity
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

  # Duplicate claims (images.catalog.duplicates.Claim) expire; nothing else has the attribute.
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
  name                        = local.table_names["image_history"]
  billing_mode                = var.dynamodb_billing_mode
  read_capacity               = local.table_read_capacity
  write_capacity              = local.table_write_capacity
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
    read_capacity   = local.table_read_capacity
    write_capacity  = local.table_write_capacity
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

# Each table of local.expiring_tables: its one key, its TTL attribute.
resource "aws_dynamodb_table" "expiring" {
  for_each = local.expiring_tables

  name                        = each.value.name
  billing_mode                = var.dynamodb_billing_mode
  read_capacity               = local.table_read_capacity
  write_capacity              = local.table_write_capacity
  hash_key                    = each.value.hash_key
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = each.value.hash_key
    type = "S"
  }

  ttl {
    attribute_name = each.value.ttl_attribute
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
