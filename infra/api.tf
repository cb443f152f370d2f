# The one-request HTTP API: PUT /images/{key} returns the thumbnail. Credentials (Bearer API
# keys, HMAC-signed URLs) are checked by the function, in constant time, for every route.

resource "aws_apigatewayv2_api" "this" {
  count         = var.http_frontend == "api_gateway" ? 1 : 0
  name          = var.name
  protocol_type = "HTTP"
  description   = "thumbnail: upload an image, get its thumbnail back"
  tags          = var.tags
}

resource "aws_apigatewayv2_integration" "this" {
  count                  = var.http_frontend == "api_gateway" ? 1 : 0
  api_id                 = aws_apigatewayv2_api.this[0].id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.this.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = min(29000, var.timeout_seconds * 1000)
}

resource "aws_apigatewayv2_route" "this" {
  # checkov:skip=CKV_AWS_309:Authorization is enforced by the function itself (API keys and signed URLs, see thumbnail-http's auth), identically on every front end.
  count     = var.http_frontend == "api_gateway" ? 1 : 0
  api_id    = aws_apigatewayv2_api.this[0].id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.this[0].id}"
}

resource "aws_cloudwatch_log_group" "api" {
  count             = var.http_frontend == "api_gateway" ? 1 : 0
  name              = "/aws/apigateway/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "this" {
  count       = var.http_frontend == "api_gateway" ? 1 : 0
  api_id      = aws_apigatewayv2_api.this[0].id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.api_throttle_rate
    throttling_burst_limit = var.api_throttle_burst
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api[0].arn
    format = jsonencode({
      requestId = "$context.requestId"
      ip        = "$context.identity.sourceIp"
      method    = "$context.httpMethod"
      path      = "$context.path"
      status    = "$context.status"
      bytes     = "$context.responseLength"
      latencyMs = "$context.integrationLatency"
      error     = "$context.integrationErrorMessage"
    })
  }

  tags = var.tags
}

resource "aws_lambda_permission" "api" {
  count         = var.http_frontend == "api_gateway" ? 1 : 0
  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this[0].execution_arn}/*/*"
}

# A function URL has no throttle of its own: the function's reserved concurrency (10 unless
# reserved_concurrency says otherwise) is what bounds the instances a flood can start.
locals {
  reserved_concurrency = (
    var.reserved_concurrency != null ? var.reserved_concurrency :
    var.http_frontend == "function_url" ? 10 : null
  )
}

resource "aws_lambda_function_url" "this" {
  # checkov:skip=CKV_AWS_258:Authorization is enforced by the function itself (API keys and signed URLs), identically on every front end.
  count              = var.http_frontend == "function_url" ? 1 : 0
  function_name      = aws_lambda_function.this.function_name
  authorization_type = "NONE"
}

# Function URLs created since October 2025 also need lambda:InvokeFunction, limited to calls
# through the URL (condition lambda:InvokedViaFunctionUrl). The AWS provider declares it from
# 6.29 (aws_lambda_permission.invoked_via_function_url); this module supports 5.100 and later,
# so the statement is added with the AWS CLI, idempotently, whenever the URL is (re)created.
resource "terraform_data" "function_url_invoke" {
  count            = var.http_frontend == "function_url" ? 1 : 0
  triggers_replace = [aws_lambda_function_url.this[0].function_arn, aws_lambda_function_url.this[0].url_id]

  provisioner "local-exec" {
    interpreter = ["/bin/sh", "-c"]
    command     = <<-EOT
      aws lambda get-policy --region "$REGION" --function-name "$FUNCTION" --query Policy --output text 2>/dev/null | grep -q FunctionURLInvokeAllowPublicAccess && exit 0
      aws lambda add-permission --region "$REGION" --function-name "$FUNCTION" \
        --statement-id FunctionURLInvokeAllowPublicAccess --action lambda:InvokeFunction \
        --principal '*' --invoked-via-function-url
    EOT
    environment = {
      REGION   = local.region
      FUNCTION = aws_lambda_function.this.function_name
    }
  }
}
