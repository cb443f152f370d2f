# The two roles the deploy workflow (.github/workflows/deploy.yml) assumes through GitHub's
# OIDC provider, applied once per account by an administrator:
#
# - plan (plan.tf): reads the stack's configuration and the state, never object data or a
#   secret's value; trusted only for pull requests and `main` of the repository.
# - apply (apply.tf): may change the stack and nothing else, trusted only for jobs in the
#   `production` environment. Give that environment required reviewers and a
#   deployment-branch rule allowing only `main`: GitHub then issues a token with this subject
#   only to reviewed runs from main.
#
# The roles the stack itself creates (the function's, the backfill job's) live under the path
# `/${name}-stack/` and must carry the permissions boundary of boundary.tf: the apply role may
# create, change and pass only such roles, so it cannot grant itself, the plan role or any
# role it makes more than the boundary allows (which has no IAM at all).

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
  iam       = "arn:${local.partition}:iam::${local.account}"

  # What belongs to the stack, by the names the thumbnail module gives it.
  stack_role_path = "/${var.name}-stack/"
  stack_roles     = "${local.iam}:role${local.stack_role_path}*"
  boundary_arn    = "${local.iam}:policy/${var.name}-stack-boundary"
  deploy_roles    = ["${local.iam}:role/${var.name}-deploy-plan", "${local.iam}:role/${var.name}-deploy-apply"]
  # Bucket names are `{name}-[kind-]{account}-{region}`.
  stack_buckets = ["arn:${local.partition}:s3:::${var.name}-*${local.account}-*", "arn:${local.partition}:s3:::${var.name}-*${local.account}-*/*"]
  state_bucket  = ["arn:${local.partition}:s3:::${var.state_bucket}", "arn:${local.partition}:s3:::${var.state_bucket}/*"]
  # The module tags its KMS key so; KMS key ARNs carry no name.
  stack_tag = "thumbnail-stack"
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
    # A plan runs for pull requests and for main, never for any other branch or tag.
    plan  = ["repo:${var.repository}:pull_request", "repo:${var.repository}:ref:refs/heads/main"]
    apply = ["repo:${var.repository}:environment:production"]
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
      test     = "StringEquals"
      variable = "${local.issuer}:sub"
      values   = each.value
    }
  }
}

resource "aws_iam_role" "plan" {
  name                 = "${var.name}-deploy-plan"
  assume_role_policy   = data.aws_iam_policy_document.trust["plan"].json
  max_session_duration = 3600
}

resource "aws_iam_role" "apply" {
  name                 = "${var.name}-deploy-apply"
  assume_role_policy   = data.aws_iam_policy_document.trust["apply"].json
  max_session_duration = 3600
}

output "plan_role_arn" {
  description = "vars.AWS_PLAN_ROLE_ARN of the deploy workflow."
  value       = aws_iam_role.plan.arn
}

output "apply_role_arn" {
  description = "vars.AWS_APPLY_ROLE_ARN of the deploy workflow."
  value       = aws_iam_role.apply.arn
}

output "stack_role_path" {
  description = "The thumbnail module's `role_path`: the only path the apply role may create roles under."
  value       = local.stack_role_path
}

output "permissions_boundary_arn" {
  description = "The thumbnail module's `permissions_boundary`: every role the apply role creates must carry it."
  value       = aws_iam_policy.boundary.arn
}
