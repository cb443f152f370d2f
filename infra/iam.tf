# Least privilege: read and write the originals prefix (the HTTP API stores uploads and
# presigns PUTs there), read and write the thumbnails prefix, list only those prefixes (so a
# missing object is a 404, not a 403), use the one KMS key, write its own log group, send to
# its own dead-letter queue.

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
  name               = "${var.name}-function"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
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
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${local.thumbnails_arn}/${var.thumbnails_prefix}/*"]
  }
  statement {
    sid       = "ListOwnPrefixes"
    actions   = ["s3:ListBucket"]
    resources = distinct([local.originals_arn, local.thumbnails_arn])
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["", "${var.originals_prefix}/*", "${var.thumbnails_prefix}/*"]
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
