# Least privilege, by the calls the function makes:
#   GetObject/HeadObject/presigned GET of originals  -> s3:GetObject   on originals_prefix/*
#   PutObject/presigned POST of originals (HTTP API) -> s3:PutObject   on originals_prefix/*
#   Get/Head/Put of thumbnails                       -> s3:GetObject, s3:PutObject on thumbnails_prefix/*
#   DeleteObject of stale client sizes (_sizes/)     -> s3:DeleteObject on thumbnails_prefix/*
#   ListObjectsV2 of one original's sizes            -> s3:ListBucket
#   HeadBucket (/readyz), and S3 answering 404 rather than 403 for a missing key (a thumbnail
#   made on first request)                           -> s3:ListBucket, with no prefix in the request:
#   a prefix condition would refuse both, so ListBucket is granted on the buckets themselves
#   (it reveals key names and sizes, not contents).
#   GetSecretValue of the credentials secret         -> secretsmanager:GetSecretValue on that secret
#   Receive/Delete from the upload queue             -> sqs:ReceiveMessage, DeleteMessage, GetQueueAttributes
# plus the one KMS key, its own log group, its own dead-letter queue, and X-Ray.

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "function" {
  name                 = "${var.name}-function"
  path                 = var.role_path
  permissions_boundary = var.permissions_boundary
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  tags                 = var.tags
}

data "aws_iam_policy_document" "function" {
  # checkov:skip=CKV_AWS_356:X-Ray's PutTraceSegments/PutTelemetryRecords take no resource ARN; "*" is the only valid resource.
  # checkov:skip=CKV_AWS_111:X-Ray's PutTraceSegments/PutTelemetryRecords take no resource ARN; "*" is the only valid resource.
  statement {
    sid       = "ReadOriginals"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${local.originals_arn}/${var.originals_prefix}/*"]
  }
  statement {
    sid       = "WriteThumbnails"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.thumbnails_arn}/${var.thumbnails_prefix}/*"]
  }
  statement {
    sid       = "ListTheBuckets"
    actions   = ["s3:ListBucket"]
    resources = distinct([local.originals_arn, local.thumbnails_arn])
  }
  statement {
    sid       = "ReadCredentials"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.credentials_secret_arn]
  }
  dynamic "statement" {
    for_each = local.queued ? [1] : []
    content {
      sid       = "WorkTheUploadQueue"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
      resources = [aws_sqs_queue.uploads[0].arn]
    }
  }
  statement {
    sid       = "UseTheKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
  }
  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }
  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]
  }
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "function" {
  name   = "${var.name}-function"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}
