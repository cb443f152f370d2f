# trigger = "queue": S3 -> SQS -> Lambda. Uploads wait in the queue instead of being throttled
# away; at most queue_max_concurrency instances work it, so a bulk upload cannot take the
# capacity the HTTP API needs; a message that keeps failing moves to the dead-letter queue.

resource "aws_sqs_queue" "uploads" {
  count                     = local.queued ? 1 : 0
  name                      = "${var.name}-uploads"
  kms_master_key_id         = aws_kms_key.this.arn
  message_retention_seconds = 345600
  # AWS's advice for a Lambda source: at least six times the function's timeout, so a
  # message is not handed out again while an invocation may still be working on it.
  visibility_timeout_seconds = min(43200, 6 * var.timeout_seconds)
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letters.arn
    maxReceiveCount     = var.queue_max_receives
  })
  tags = var.tags
}

data "aws_iam_policy_document" "uploads_queue" {
  count = local.queued ? 1 : 0
  statement {
    sid       = "OriginalsBucketSends"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.uploads[0].arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.originals_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_sqs_queue_policy" "uploads" {
  count     = local.queued ? 1 : 0
  queue_url = aws_sqs_queue.uploads[0].id
  policy    = data.aws_iam_policy_document.uploads_queue[0].json
}

resource "aws_lambda_event_source_mapping" "uploads" {
  count            = local.queued ? 1 : 0
  event_source_arn = aws_sqs_queue.uploads[0].arn
  function_name    = aws_lambda_function.this.arn
  # One original per invocation: its time is the function's timeout, whatever the batch.
  batch_size              = 1
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.queue_max_concurrency
  }

  depends_on = [aws_iam_role_policy.function]
}
