# Failures are not silent: function errors and throttles, dead letters, a queue falling
# behind and API 5xx raise alarms, sent to alarm_topic_arn when one is given.

locals {
  alarm_actions = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]

  alarms = merge(
    {
      errors = {
        description = "The function failed (configuration, storage, or a crash): see its logs."
        namespace   = "AWS/Lambda"
        metric      = "Errors"
        statistic   = "Sum"
        dimensions  = { FunctionName = aws_lambda_function.this.function_name }
      }
      throttles = {
        description = "Invocations were throttled: raise the account's concurrency or lower the load."
        namespace   = "AWS/Lambda"
        metric      = "Throttles"
        statistic   = "Sum"
        dimensions  = { FunctionName = aws_lambda_function.this.function_name }
      }
      dead-letters = {
        description = "Uploads whose thumbnails failed after every retry are waiting in the dead-letter queue."
        namespace   = "AWS/SQS"
        metric      = "ApproximateNumberOfMessagesVisible"
        statistic   = "Maximum"
        dimensions  = { QueueName = aws_sqs_queue.dead_letters.name }
      }
    },
    local.queued ? {
      queue-age = {
        description = "The oldest upload has waited over 15 minutes for its thumbnails."
        namespace   = "AWS/SQS"
        metric      = "ApproximateAgeOfOldestMessage"
        statistic   = "Maximum"
        threshold   = 900
        dimensions  = { QueueName = aws_sqs_queue.uploads[0].name }
      }
    } : {},
    var.http_frontend == "api_gateway" ? {
      api-5xx = {
        description = "The HTTP API answered with server errors."
        namespace   = "AWS/ApiGateway"
        metric      = "5xx"
        statistic   = "Sum"
        dimensions  = { ApiId = aws_apigatewayv2_api.this[0].id, Stage = "$default" }
      }
    } : {},
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each            = local.alarms
  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  statistic           = each.value.statistic
  dimensions          = each.value.dimensions
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = try(each.value.threshold, 0)
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}
