# The plan role reads what `terraform plan` refreshes: the configuration of the stack's
# resources and the state. AWS's ReadOnlyAccess would also read every object (s3:GetObject)
# and every secret's value of the account; this names the read actions instead, and denies the
# data reads outright, so a pull request's workflow cannot reach originals or credentials.

data "aws_iam_policy_document" "plan" {
  # checkov:skip=CKV_AWS_356:Describe/Get/List of configuration across the stack's services; refreshing resources created by ID (APIs, distributions, keys) needs them on "*"; object data and secret values are denied below.
  # checkov:skip=CKV_AWS_111:As above; no write action is granted.
  # checkov:skip=CKV_AWS_108:Object data and secret values are explicitly denied below.
  statement {
    sid = "ReadConfiguration"
    actions = [
      "s3:GetBucket*", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:GetAccelerateConfiguration",
      "s3:GetReplicationConfiguration", "s3:GetIntelligentTieringConfiguration", "s3:GetAnalyticsConfiguration",
      "s3:GetInventoryConfiguration", "s3:GetMetricsConfiguration", "s3:ListAllMyBuckets",
      "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:GetFunctionCodeSigningConfig",
      "lambda:GetFunctionEventInvokeConfig", "lambda:GetFunctionUrlConfig", "lambda:GetPolicy",
      "lambda:GetEventSourceMapping", "lambda:GetFunctionConcurrency", "lambda:GetFunctionRecursionConfig",
      "lambda:GetRuntimeManagementConfig", "lambda:List*",
      "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags", "sqs:ListQueues",
      "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListResourceTags",
      "logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
      "apigateway:GET", "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource",
      "secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy", "secretsmanager:ListSecretVersionIds",
      "cloudfront:Get*", "cloudfront:List*", "cloudfront:DescribeFunction",
      "iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
      "iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetOpenIDConnectProvider",
      "sts:GetCallerIdentity",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "ReadTheState"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = local.state_bucket
  }
  statement {
    sid    = "NoDataNoSecrets"
    effect = "Deny"
    actions = [
      "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAttributes", "s3:GetObjectTorrent",
      "secretsmanager:GetSecretValue", "sqs:ReceiveMessage",
      "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "ssm:GetParameter*", "lambda:InvokeFunction",
    ]
    not_resources = ["arn:${local.partition}:s3:::${var.state_bucket}/*"]
  }
}

resource "aws_iam_role_policy" "plan" {
  name   = "view-the-stack"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan.json
}
