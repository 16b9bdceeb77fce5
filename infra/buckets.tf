# What every bucket of the system has, written once: owner-enforced objects (no ACLs), Block
# Public Access, versioning, SSE-S3, and a policy statement refusing plain HTTP. Each bucket's
# own settings (lifecycle, logging, CORS, policy) stay with it in s3.tf and beanstalk.tf.

locals {
  private_buckets = {
    images    = aws_s3_bucket.images
    logs      = aws_s3_bucket.logs
    artifacts = aws_s3_bucket.artifacts
  }
}

resource "aws_s3_bucket_ownership_controls" "private" {
  for_each = local.private_buckets

  bucket = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "private" {
  for_each = local.private_buckets

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "private" {
  for_each = local.private_buckets

  bucket = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

# SSE-S3: why not a customer managed key is written on each bucket (checkov skips).
resource "aws_s3_bucket_server_side_encryption_configuration" "private" {
  for_each = local.private_buckets

  bucket = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# The first statement of every bucket policy (source_policy_documents of each).
data "aws_iam_policy_document" "deny_insecure_transport" {
  for_each = local.private_buckets

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# Where these were one resource per bucket: the same objects, no change on apply.
moved {
  from = aws_s3_bucket_ownership_controls.images
  to   = aws_s3_bucket_ownership_controls.private["images"]
}

moved {
  from = aws_s3_bucket_ownership_controls.logs
  to   = aws_s3_bucket_ownership_controls.private["logs"]
}

moved {
  from = aws_s3_bucket_ownership_controls.artifacts
  to   = aws_s3_bucket_ownership_controls.private["artifacts"]
}

moved {
  from = aws_s3_bucket_public_access_block.images
  to   = aws_s3_bucket_public_access_block.private["images"]
}

moved {
  from = aws_s3_bucket_public_access_block.logs
  to   = aws_s3_bucket_public_access_block.private["logs"]
}

moved {
  from = aws_s3_bucket_public_access_block.artifacts
  to   = aws_s3_bucket_public_access_block.private["artifacts"]
}

moved {
  from = aws_s3_bucket_versioning.images
  to   = aws_s3_bucket_versioning.private["images"]
}

moved {
  from = aws_s3_bucket_versioning.logs
  to   = aws_s3_bucket_versioning.private["logs"]
}

moved {
  from = aws_s3_bucket_versioning.artifacts
  to   = aws_s3_bucket_versioning.private["artifacts"]
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.images
  to   = aws_s3_bucket_server_side_encryption_configuration.private["images"]
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.logs
  to   = aws_s3_bucket_server_side_encryption_configuration.private["logs"]
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.artifacts
  to   = aws_s3_bucket_server_side_encryption_configuration.private["artifacts"]
}
