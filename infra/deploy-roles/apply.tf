# What creating, changing and destroying the stack takes, on the stack's own resources only:
# its buckets, function, queues, key (by its stack tag), log groups, alarms, secret, API and
# CDN; roles only under the stack's path and only with the boundary; and the state.

data "aws_iam_policy_document" "apply" {
  # checkov:skip=CKV_AWS_356:Create* of resources named by ID (KMS keys, APIs, distributions, event source mappings) takes "*"; each such grant is conditioned on the stack's tag, the function's ARN, or is a read.
  # checkov:skip=CKV_AWS_111:As above.
  # checkov:skip=CKV_AWS_109:KMS key management only on keys tagged as the stack's.
  # checkov:skip=CKV_AWS_108:Data reads only on the stack's own buckets and secret, and the state.
  # checkov:skip=CKV_AWS_107:secretsmanager:* only on the stack's own credentials secret.
  statement {
    sid       = "StackBuckets"
    actions   = ["s3:*"]
    resources = local.stack_buckets
  }
  statement {
    sid       = "TheState"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"]
    resources = local.state_bucket
  }
  statement {
    sid     = "StackFunction"
    actions = ["lambda:*"]
    resources = [
      "arn:${local.partition}:lambda:*:${local.account}:function:${var.name}",
      "arn:${local.partition}:lambda:*:${local.account}:function:${var.name}:*",
      "arn:${local.partition}:lambda:*:${local.account}:event-source-mapping:*",
    ]
  }
  statement {
    sid       = "StackFunctionEvents"
    actions   = ["lambda:CreateEventSourceMapping"]
    resources = ["*"]
    condition {
      test     = "ArnLike"
      variable = "lambda:FunctionArn"
      values   = ["arn:${local.partition}:lambda:*:${local.account}:function:${var.name}"]
    }
  }
  statement {
    sid       = "StackQueues"
    actions   = ["sqs:*"]
    resources = ["arn:${local.partition}:sqs:*:${local.account}:${var.name}-*"]
  }
  statement {
    sid       = "CreateTheStackKey"
    actions   = ["kms:CreateKey", "kms:TagResource"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${local.stack_tag}"
      values   = [var.name]
    }
  }
  statement {
    sid       = "TheStackKey"
    actions   = ["kms:*"]
    resources = ["arn:${local.partition}:kms:*:${local.account}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${local.stack_tag}"
      values   = [var.name]
    }
  }
  statement {
    sid       = "TheStackKeyAlias"
    actions   = ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"]
    resources = ["arn:${local.partition}:kms:*:${local.account}:alias/${var.name}"]
  }
  statement {
    sid     = "StackLogs"
    actions = ["logs:*"]
    resources = [
      "arn:${local.partition}:logs:*:${local.account}:log-group:/aws/lambda/${var.name}",
      "arn:${local.partition}:logs:*:${local.account}:log-group:/aws/lambda/${var.name}:*",
      "arn:${local.partition}:logs:*:${local.account}:log-group:/aws/apigateway/${var.name}",
      "arn:${local.partition}:logs:*:${local.account}:log-group:/aws/apigateway/${var.name}:*",
    ]
  }
  statement {
    sid       = "StackAlarms"
    actions   = ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource"]
    resources = ["arn:${local.partition}:cloudwatch:*:${local.account}:alarm:${var.name}-*"]
  }
  statement {
    sid       = "StackSecret"
    actions   = ["secretsmanager:*"]
    resources = ["arn:${local.partition}:secretsmanager:*:${local.account}:secret:${var.name}-credentials-*"]
  }
  statement {
    # HTTP APIs and distributions are named by an ID AWS picks; no other data lives in them.
    sid       = "StackApiAndCdn"
    actions   = ["apigateway:*", "cloudfront:*"]
    resources = ["arn:${local.partition}:apigateway:*::/apis", "arn:${local.partition}:apigateway:*::/apis/*", "arn:${local.partition}:apigateway:*::/tags/*", "arn:${local.partition}:cloudfront::${local.account}:*"]
  }
  statement {
    sid = "Read"
    actions = [
      "iam:Get*", "iam:List*", "kms:ListAliases", "kms:ListKeys", "logs:Describe*", "cloudwatch:Describe*",
      "cloudwatch:ListTagsForResource", "lambda:Get*", "lambda:List*", "s3:ListAllMyBuckets", "sts:GetCallerIdentity",
    ]
    resources = ["*"]
  }
  # Roles: only under the stack's path (the deploy roles are not), only with the boundary.
  statement {
    sid       = "StackRolesBounded"
    actions   = ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"]
    resources = [local.stack_roles]
    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.boundary_arn]
    }
  }
  statement {
    sid = "StackRoles"
    actions = [
      "iam:DeleteRole", "iam:TagRole", "iam:UntagRole", "iam:UpdateRole", "iam:UpdateRoleDescription",
      "iam:UpdateAssumeRolePolicy", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
    ]
    resources = [local.stack_roles]
  }
  statement {
    sid       = "PassStackRoles"
    actions   = ["iam:PassRole"]
    resources = [local.stack_roles]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com", "batchoperations.s3.amazonaws.com"]
    }
  }
  # Belt and braces: whatever the statements above come to match, the deploy roles and the
  # boundary stay as the administrator made them, and no role sheds its boundary.
  statement {
    sid         = "KeepTheDeployRolesAndBoundary"
    effect      = "Deny"
    not_actions = ["iam:Get*", "iam:List*"]
    resources   = concat(local.deploy_roles, [local.boundary_arn])
  }
  statement {
    sid       = "KeepBoundaries"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary", "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "apply" {
  name   = "apply-the-stack"
  role   = aws_iam_role.apply.id
  policy = data.aws_iam_policy_document.apply.json
}
