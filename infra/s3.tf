# The image bucket: private, no ACLs, nothing public. Objects under images/ and thumbnails/
# are served by CloudFront through an origin access control (cloudfront.tf); uploads/
# (files waiting for verification) are never public. Key scheme: images/objects.py (one
# immutable key per file version).

resource "aws_s3_bucket" "images" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice left to the operator; versioning and DynamoDB PITR cover accidental loss.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object events: the write path and the sweep command keep S3 and DynamoDB consistent.
  #checkov:skip=CKV_AWS_145:SSE-S3 on purpose: images/ and thumbnails/ are public through CloudFront by design, so a customer managed key adds no confidentiality and would need a key grant for every reader.
  bucket = local.images_bucket_name
}

resource "aws_s3_bucket_lifecycle_configuration" "images" {
  bucket = aws_s3_bucket.images.id

  # An upload that was never verified and registered within a day is abandoned. The bucket
  # is versioned: the expiry leaves a noncurrent version (and a delete marker) behind, and a
  # registered upload's delete does too; nothing restores uploads/, so they go a day later.
  rule {
    id     = "expire-unverified-uploads"
    status = "Enabled"
    filter {
      prefix = "uploads/"
    }
    expiration {
      days = 1
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  # Exports (images/export_jobs.py) are fetched through presigned links within minutes; nor
  # is an old export restored.
  rule {
    id     = "expire-exports"
    status = "Enabled"
    filter {
      prefix = "exports/"
    }
    expiration {
      days = 1
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  # Replaced and deleted versions of images/, thumbnails/ and trash/ stay as long as the
  # tables' point-in-time recovery reaches (35 days): a restore to a minute needs the files
  # of that minute (docs/deploy.md). A delete marker with no version left behind it (uploads/
  # and exports/ after a day, any key after that) is removed.
  rule {
    id     = "noncurrent-versions-and-multipart"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
    expiration {
      expired_object_delete_marker = true
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.private["images"]]
}

# Browsers upload straight to S3 (under uploads/) with presigned POSTs (images/objects.py
# presigned_upload) or PUTs issued by the portal, from the portal's origin only.
resource "aws_s3_bucket_cors_configuration" "images" {
  bucket = aws_s3_bucket.images.id
  cors_rule {
    allowed_methods = ["POST", "PUT"]
    allowed_origins = ["https://${local.portal_host}"]
    allowed_headers = ["Content-Type", "Content-MD5", "x-amz-checksum-sha256", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token", "x-amz-meta-*"]
    expose_headers  = ["ETag"]
    max_age_seconds = 3000
  }
}

resource "aws_s3_bucket_logging" "images" {
  bucket        = aws_s3_bucket.images.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3/${local.images_bucket_name}/"
}

data "aws_iam_policy_document" "images_bucket" {
  source_policy_documents = [data.aws_iam_policy_document.deny_insecure_transport["images"].json]

  # Only the CloudFront distribution, and only the public prefixes.
  statement {
    sid     = "CloudFrontReadsPublicPrefixes"
    actions = ["s3:GetObject"]
    resources = [
      "${aws_s3_bucket.images.arn}/images/*",
      "${aws_s3_bucket.images.arn}/thumbnails/*",
      "${aws_s3_bucket.images.arn}/renditions/*",
    ]
    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.images.arn]
    }
  }
}

resource "aws_s3_bucket_policy" "images" {
  bucket     = aws_s3_bucket.images.id
  policy     = data.aws_iam_policy_document.images_bucket.json
  depends_on = [aws_s3_bucket_public_access_block.private["images"]]
}

# ---------------------------------------------------------------------------------------
# Logs bucket: S3 server access logs of the image and artifact buckets.
# ---------------------------------------------------------------------------------------

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_18:This is the access-log bucket itself; logging it would log its own log deliveries.
  #checkov:skip=CKV_AWS_144:Access logs are not replicated across regions.
  #checkov:skip=CKV2_AWS_62:Nothing consumes log object events.
  #checkov:skip=CKV_AWS_145:S3 server access logging only delivers to buckets encrypted with SSE-S3.
  bucket = "${var.project}-logs-${local.account_id}"

  # Emptying the other buckets before a destroy writes access logs here, delivered up to
  # hours later, so this bucket cannot be emptied by hand: with deletion_protection off (the
  # teardown's first step, docs/deploy.md) `terraform destroy` deletes what is in it.
  force_destroy = !var.deletion_protection
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
  depends_on = [aws_s3_bucket_versioning.private["logs"]]
}

data "aws_iam_policy_document" "logs_bucket" {
  source_policy_documents = [data.aws_iam_policy_document.deny_insecure_transport["logs"].json]

  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/s3/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket     = aws_s3_bucket.logs.id
  policy     = data.aws_iam_policy_document.logs_bucket.json
  depends_on = [aws_s3_bucket_public_access_block.private["logs"]]
}
