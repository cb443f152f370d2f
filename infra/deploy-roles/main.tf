# The two roles the deploy workflow (.github/workflows/deploy.yml) assumes through GitHub's
# OIDC provider, applied once per account by an administrator:
#
# - plan: read-only (AWS's ReadOnlyAccess plus reading the state), trusted by any workflow
#   run of the repository. Whoever can push can run a plan; a plan can change nothing, and
#   neither the plan nor the state holds a credential (they live in Secrets Manager).
# - apply: may change the stack, trusted only for jobs in the `production` environment. Give
#   that environment required reviewers and a deployment-branch rule allowing only `main`:
#   GitHub then issues a token with this subject only to reviewed runs from main.

terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}

variable "repository" {
  description = "GitHub repository allowed to deploy, owner/name."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.repository))
    error_message = "repository must be owner/name."
  }
}

variable "name" {
  description = "The stack's name (the thumbnail module's `name`): the apply role may manage resources named after it."
  type        = string
  default     = "thumbnail"
}

variable "state_bucket" {
  description = "Bucket holding the Terraform state."
  type        = string
}

variable "create_oidc_provider" {
  description = "Create GitHub's OIDC provider (false when the account has it already)."
  type        = bool
  default     = true
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  issuer    = "token.actions.githubusercontent.com"
  provider_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : (
    "arn:${local.partition}:iam::${local.account}:oidc-provider/${local.issuer}"
  )
}

resource "aws_iam_openid_connect_provider" "github" {
  count          = var.create_oidc_provider ? 1 : 0
  url            = "https://${local.issuer}"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_policy_document" "trust" {
  for_each = {
    plan  = "repo:${var.repository}:*"
    apply = "repo:${var.repository}:environment:production"
  }
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = each.key == "plan" ? "StringLike" : "StringEquals"
      variable = "${local.issuer}:sub"
      values   = [each.value]
    }
  }
}

resource "aws_iam_role" "plan" {
  name                 = "${var.name}-deploy-plan"
  assume_role_policy   = data.aws_iam_policy_document.trust["plan"].json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "plan_read_only" {
  role       = aws_iam_role.plan.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

data "aws_iam_policy_document" "state_read" {
  statement {
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${var.state_bucket}", "arn:${local.partition}:s3:::${var.state_bucket}/*"]
  }
}

resource "aws_iam_role_policy" "plan_state" {
  name   = "read-state"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.state_read.json
}

resource "aws_iam_role" "apply" {
  name                 = "${var.name}-deploy-apply"
  assume_role_policy   = data.aws_iam_policy_document.trust["apply"].json
  max_session_duration = 3600
}

# What creating and updating the stack takes: the services it uses, and IAM only for roles
# named after the stack (no privilege escalation beyond them).
data "aws_iam_policy_document" "apply" {
  # checkov:skip=CKV_AWS_110:Deploying the stack means writing its roles' policies (PutRolePolicy, PassRole), limited to roles named after the stack; a permissions boundary on those roles is the way to bound them further.
  # checkov:skip=CKV_AWS_356:Creating a stack's KMS keys, queues, functions, APIs and alarms needs their Create* actions, whose resources do not exist yet ("*"); IAM is limited to the stack's own roles below.
  # checkov:skip=CKV_AWS_111:As above: Create* actions take no existing resource.
  # checkov:skip=CKV_AWS_109:As above; the KMS actions manage the stack's own key.
  # checkov:skip=CKV_AWS_107:secretsmanager:* manages the stack's own credentials secret; the apply role never needs to read its value, but the service has no write-without-read action set.
  # checkov:skip=CKV_AWS_108:ReadOnly data actions are needed to refresh the state.
  # checkov:skip=CKV_AWS_289:As above: Create* actions take no existing resource.
  # checkov:skip=CKV_AWS_290:As above: Create* actions take no existing resource.
  # checkov:skip=CKV_AWS_287:As above: Create* actions take no existing resource.
  # checkov:skip=CKV_AWS_288:As above: Create* actions take no existing resource.
  # checkov:skip=CKV_AWS_355:As above: Create* actions take no existing resource.
  # checkov:skip=CKV_AWS_286:As above: Create* actions take no existing resource.
  statement {
    sid = "TheStacksServices"
    actions = [
      "s3:*", "lambda:*", "sqs:*", "kms:*", "logs:*", "apigateway:*", "cloudwatch:*",
      "secretsmanager:*", "xray:*", "sts:GetCallerIdentity",
    ]
    resources = ["*"]
  }
  statement {
    sid = "TheStacksRoles"
    actions = [
      "iam:CreateRole", "iam:DeleteRole", "iam:TagRole", "iam:UntagRole", "iam:UpdateRole",
      "iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PassRole",
    ]
    resources = ["arn:${local.partition}:iam::${local.account}:role/${var.name}-*"]
  }
  statement {
    sid       = "ReadIam"
    actions   = ["iam:Get*", "iam:List*"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "apply" {
  name   = "apply-the-stack"
  role   = aws_iam_role.apply.id
  policy = data.aws_iam_policy_document.apply.json
}

output "plan_role_arn" {
  description = "vars.AWS_PLAN_ROLE_ARN of the deploy workflow."
  value       = aws_iam_role.plan.arn
}

output "apply_role_arn" {
  description = "vars.AWS_APPLY_ROLE_ARN of the deploy workflow."
  value       = aws_iam_role.apply.arn
}
