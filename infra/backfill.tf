# Thumbnails for originals that already exist (10 million of them, or a new preset): an S3
# Batch Operations job invokes the function once per object of a manifest. `thumbnail
# backfill` writes the manifest to the reports bucket and prints the create-job command;
# this is the role that job runs as.

data "aws_iam_policy_document" "batch_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["batchoperations.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "batch" {
  count                = var.backfill ? 1 : 0
  name                 = "${var.name}-batch"
  path                 = var.role_path
  permissions_boundary = var.permissions_boundary
  assume_role_policy   = data.aws_iam_policy_document.batch_assume.json
  tags                 = var.tags
}

data "aws_iam_policy_document" "batch" {
  count = var.backfill ? 1 : 0
  statement {
    sid       = "InvokeTheFunction"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.this.arn, "${aws_lambda_function.this.arn}:*"]
  }
  statement {
    sid       = "ReadManifests"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${aws_s3_bucket.this["reports"].arn}/manifests/*"]
  }
  statement {
    sid       = "WriteReports"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this["reports"].arn}/reports/*"]
  }
  statement {
    sid       = "FindTheReportsBucket"
    actions   = ["s3:GetBucketLocation"]
    resources = [aws_s3_bucket.this["reports"].arn]
  }
  statement {
    sid       = "UseTheKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_role_policy" "batch" {
  count  = var.backfill ? 1 : 0
  name   = "${var.name}-batch"
  role   = aws_iam_role.batch[0].id
  policy = data.aws_iam_policy_document.batch[0].json
}
