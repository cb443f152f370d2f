# The thumbnail service on AWS: originals and thumbnails in S3, one Lambda function that
# thumbnails every upload (S3 trigger) and serves the one-request HTTP API (API Gateway HTTP
# API or a function URL).

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition

  bucket_names = merge(
    var.single_bucket ? {
      originals = "${var.name}-${local.account}-${local.region}"
      } : {
      originals  = "${var.name}-originals-${local.account}-${local.region}"
      thumbnails = "${var.name}-thumbnails-${local.account}-${local.region}"
    },
    # Batch Operations manifests and completion reports: never under the originals' prefix,
    # where they would trigger the function.
    var.backfill ? { reports = "${var.name}-reports-${local.account}-${local.region}" } : {},
  )
  originals_bucket  = aws_s3_bucket.this["originals"].id
  thumbnails_bucket = var.single_bucket ? aws_s3_bucket.this["originals"].id : aws_s3_bucket.this["thumbnails"].id
  originals_arn     = aws_s3_bucket.this["originals"].arn
  thumbnails_arn    = var.single_bucket ? aws_s3_bucket.this["originals"].arn : aws_s3_bucket.this["thumbnails"].arn

  function_name = var.name
  http_enabled  = var.http_frontend != "none"
  queued        = var.trigger == "queue"
}

check "prefixes_differ" {
  assert {
    condition     = !startswith("${var.thumbnails_prefix}/", "${var.originals_prefix}/") && !startswith("${var.originals_prefix}/", "${var.thumbnails_prefix}/")
    error_message = "originals_prefix and thumbnails_prefix must not contain each other, or thumbnails could trigger the function."
  }
}

# One customer-managed key for the buckets, the logs, the queue and the function's environment.
resource "aws_kms_key" "this" {
  description             = "${var.name}: objects, logs, dead letters and function settings"
  enable_key_rotation     = true
  deletion_window_in_days = 14
  policy                  = data.aws_iam_policy_document.kms.json
  # infra/deploy-roles scopes the apply role and the roles' boundary to the key by this tag
  # (a key's ARN carries no name).
  tags = merge(var.tags, { "thumbnail-stack" = var.name })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

data "aws_iam_policy_document" "kms" {
  # checkov:skip=CKV_AWS_109:A key policy's resource is always the key itself ("*" means this key).
  # checkov:skip=CKV_AWS_111:A key policy's resource is always the key itself ("*" means this key).
  # checkov:skip=CKV_AWS_356:A key policy's resource is always the key itself ("*" means this key).
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
  }
  statement {
    sid       = "CloudWatchLogsEncrypt"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:*"]
    }
  }
  # S3 encrypts the upload events it sends to the (encrypted) upload queue.
  statement {
    sid       = "S3SendsUploadEvents"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18:Server access logs need a separate log bucket; CloudTrail data events are the usual choice and are account-wide.
  # checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice for the operator, not a default.
  # checkov:skip=CKV2_AWS_62:Only the originals bucket needs event notifications (see aws_s3_bucket_notification.uploads); thumbnails must not trigger anything.
  for_each      = local.bucket_names
  bucket        = each.value
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = aws_s3_bucket.this
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  versioning_configuration {
    status = var.versioning ? "Enabled" : "Suspended"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  rule {
    id     = "expire-previous-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

# TLS only: any request over plain HTTP is refused.
data "aws_iam_policy_document" "tls_only" {
  for_each = aws_s3_bucket.this
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

resource "aws_s3_bucket_policy" "this" {
  for_each   = aws_s3_bucket.this
  bucket     = each.value.id
  policy     = data.aws_iam_policy_document.tls_only[each.key].json
  depends_on = [aws_s3_bucket_public_access_block.this]
}

# Uploads (and deletions: the thumbnails of a deleted original go too) under originals_prefix
# (optionally only some file endings) reach the function,
# through the upload queue (trigger = "queue") or directly. The thumbnails live under another
# prefix, so they never do; the function also skips its own outputs.
resource "aws_s3_bucket_notification" "uploads" {
  bucket = local.originals_bucket

  dynamic "queue" {
    for_each = local.queued ? (length(var.trigger_suffixes) > 0 ? var.trigger_suffixes : [""]) : []
    content {
      queue_arn     = aws_sqs_queue.uploads[0].arn
      events        = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
      filter_prefix = "${var.originals_prefix}/"
      filter_suffix = queue.value == "" ? null : queue.value
    }
  }

  dynamic "lambda_function" {
    for_each = local.queued ? [] : (length(var.trigger_suffixes) > 0 ? var.trigger_suffixes : [""])
    content {
      lambda_function_arn = aws_lambda_function.this.arn
      events              = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
      filter_prefix       = "${var.originals_prefix}/"
      filter_suffix       = lambda_function.value == "" ? null : lambda_function.value
    }
  }

  depends_on = [aws_lambda_permission.s3, aws_sqs_queue_policy.uploads]
}

resource "aws_lambda_permission" "s3" {
  count          = local.queued ? 0 : 1
  statement_id   = "AllowOriginalsBucket"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = local.originals_arn
  source_account = local.account
}

# A browser uploads to a presigned URL straight into the originals bucket: it needs CORS.
resource "aws_s3_bucket_cors_configuration" "originals" {
  count  = length(var.cors_origins) > 0 ? 1 : 0
  bucket = local.originals_bucket

  cors_rule {
    allowed_origins = var.cors_origins
    # Browsers upload with the presigned POST form (POST /uploads/{key}); nothing PUTs.
    allowed_methods = ["POST", "GET", "HEAD"]
    allowed_headers = ["content-type", "content-length", "content-md5"]
    expose_headers  = ["ETag"]
    max_age_seconds = 600
  }
}
