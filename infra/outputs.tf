output "api_url" {
  description = "Base URL of the HTTP API (null when http_frontend is none)."
  value = (
    var.http_frontend == "api_gateway" ? aws_apigatewayv2_stage.this[0].invoke_url :
    var.http_frontend == "function_url" ? aws_lambda_function_url.this[0].function_url :
    null
  )
}

output "originals_bucket" {
  description = "Bucket of the originals (uploads go under originals_prefix)."
  value       = local.originals_bucket
}

output "thumbnails_bucket" {
  description = "Bucket of the thumbnails (under thumbnails_prefix/<preset>/)."
  value       = local.thumbnails_bucket
}

output "originals_prefix" {
  description = "Folder whose uploads are thumbnailed."
  value       = var.originals_prefix
}

output "thumbnails_prefix" {
  description = "Folder the thumbnails are written to."
  value       = var.thumbnails_prefix
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "dead_letter_queue_url" {
  description = "Upload events that failed after every retry."
  value       = aws_sqs_queue.dead_letters.url
}

output "function_arn" {
  description = "ARN of the Lambda function (for `thumbnail backfill --function-arn`)."
  value       = aws_lambda_function.this.arn
}

output "credentials_secret_arn" {
  description = "Secrets Manager secret with the HTTP API's credentials: put its value with `aws secretsmanager put-secret-value --secret-id ARN --secret-string file://credentials.json`."
  value       = local.credentials_secret_arn
}

output "upload_queue_url" {
  description = "Queue of upload events (trigger = queue; null otherwise)."
  value       = local.queued ? aws_sqs_queue.uploads[0].url : null
}

output "reports_bucket" {
  description = "Bucket for Batch Operations manifests (manifests/) and reports (reports/); null without backfill."
  value       = var.backfill ? aws_s3_bucket.this["reports"].id : null
}

output "batch_role_arn" {
  description = "Role for S3 Batch Operations jobs (for `thumbnail backfill --role-arn`); null without backfill."
  value       = var.backfill ? aws_iam_role.batch[0].arn : null
}

output "cdn_url" {
  description = "Base URL of the CloudFront distribution in front of the HTTP API (null without it): use it for <img src> and srcset."
  value       = local.cdn ? "https://${aws_cloudfront_distribution.this[0].domain_name}" : null
}
