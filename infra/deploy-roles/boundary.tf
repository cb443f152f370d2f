# The most any role of the stack can ever do, whatever policy the apply role writes into it:
# the calls the function and the backfill job make (infra/iam.tf, infra/backfill.tf), on the
# stack's own buckets, queues, secret, key, log groups and function, and no IAM at all, so a
# stack role can change neither this boundary nor the deploy roles.

data "aws_iam_policy_document" "boundary" {
  # checkov:skip=CKV_AWS_356:X-Ray's PutTraceSegments/PutTelemetryRecords take no resource ARN; the KMS statement is bounded by the key's stack tag.
  # checkov:skip=CKV_AWS_111:As above.
  statement {
    sid       = "StackObjects"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation"]
    resources = local.stack_buckets
  }
  statement {
    sid       = "StackSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:${local.partition}:secretsmanager:*:${local.account}:secret:${var.name}-*"]
  }
  statement {
    sid       = "StackQueues"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:SendMessage", "sqs:ChangeMessageVisibility"]
    resources = ["arn:${local.partition}:sqs:*:${local.account}:${var.name}-*"]
  }
  statement {
    sid       = "StackKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:DescribeKey"]
    resources = ["arn:${local.partition}:kms:*:${local.account}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${local.stack_tag}"
      values   = [var.name]
    }
  }
  statement {
    sid       = "StackLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:${local.partition}:logs:*:${local.account}:log-group:/aws/lambda/${var.name}:*"]
  }
  statement {
    sid       = "StackFunction"
    actions   = ["lambda:InvokeFunction"]
    resources = ["arn:${local.partition}:lambda:*:${local.account}:function:${var.name}", "arn:${local.partition}:lambda:*:${local.account}:function:${var.name}:*"]
  }
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
  statement {
    sid       = "NoIam"
    effect    = "Deny"
    actions   = ["iam:*", "sts:AssumeRole"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "boundary" {
  name        = "${var.name}-stack-boundary"
  description = "Permissions boundary of every role the ${var.name} stack creates."
  policy      = data.aws_iam_policy_document.boundary.json
}
