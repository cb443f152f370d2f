resource "aws_cloudwatch_log_group" "function" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

# Upload events whose retries are exhausted (storage down for longer than the retries last, a
# configuration error) land here instead of vanishing; the dead-letters alarm says so.
resource "aws_sqs_queue" "dead_letters" {
  name                      = "${var.name}-dead-letters"
  message_retention_seconds = 1209600
  kms_master_key_id         = aws_kms_key.this.arn
  tags                      = var.tags
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_117:The function talks only to S3 and CloudWatch over TLS; a VPC would add NAT or endpoints and cold-start time for no isolation gain.
  # checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile in the deploy pipeline; the zip's hash is pinned by source_code_hash.
  function_name                  = local.function_name
  description                    = "Thumbnails for uploads to ${local.originals_bucket}/${var.originals_prefix}/ and the HTTP API"
  role                           = aws_iam_role.function.arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.architecture]
  filename                       = var.lambda_zip
  source_code_hash               = filebase64sha256(var.lambda_zip)
  memory_size                    = var.memory_mb
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = local.reserved_concurrency
  kms_key_arn                    = aws_kms_key.this.arn

  environment {
    variables = {
      THUMBNAIL_STORE              = "s3://${local.originals_bucket}/${var.originals_prefix}"
      THUMBNAIL_THUMBS             = "s3://${local.thumbnails_bucket}/${var.thumbnails_prefix}"
      THUMBNAIL_PRESETS            = var.presets
      THUMBNAIL_MAX_PIXELS         = tostring(var.max_pixels)
      THUMBNAIL_MAX_INPUT_BYTES    = tostring(var.max_input_bytes)
      THUMBNAIL_REQUEST_TIMEOUT    = "${max(1, var.timeout_seconds - 2)}s"
      THUMBNAIL_CREDENTIALS_SECRET = local.credentials_secret_arn
      THUMBNAIL_PUBLIC_READS       = tostring(var.public_reads)
      THUMBNAIL_PUBLIC_ORIGINALS   = tostring(var.public_originals)
      THUMBNAIL_CORS_ORIGINS       = join(",", var.cors_origins)
      # Behind the CDN, only requests that come through it are answered.
      THUMBNAIL_ORIGIN_SECRET = local.cdn ? terraform_data.origin_secret[0].output : ""
      RUST_LOG                = "info"
    }
  }

  tracing_config {
    mode = "Active"
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letters.arn
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function.name
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy.function, aws_cloudwatch_log_group.function]
}

# S3 invokes asynchronously (trigger = "direct"): two retries, then the dead-letter queue.
resource "aws_lambda_function_event_invoke_config" "this" {
  count         = local.queued ? 0 : 1
  function_name = aws_lambda_function.this.function_name

  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 3600
}
