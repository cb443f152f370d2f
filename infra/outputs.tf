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
