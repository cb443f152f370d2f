# A complete stack: `terraform init && terraform apply` in this folder after building the zip
# (see the README's deploy section).

terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }

  # Keep state remote for anything shared, e.g.:
  # backend "s3" { bucket = "my-terraform-state", key = "thumbnail.tfstate", region = "eu-west-1" }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "eu-west-1"
}

variable "lambda_zip" {
  description = "The function's zip from `cargo lambda build --profile lambda --arm64 --output-format zip -p thumbnail-lambda`."
  type        = string
  default     = "../../../target/lambda/bootstrap/bootstrap.zip"
}

variable "deploy_roles" {
  description = "Whether infra/deploy-roles (name `thumbnail`) deploys this stack: its roles then live under the path and carry the boundary that the apply role requires."
  type        = bool
  default     = true
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

variable "cors_origins" {
  description = "Origins of the web pages that call the API, e.g. [\"https://app.example.com\"]."
  type        = list(string)
  default     = []
}

variable "alarm_topic_arn" {
  description = "SNS topic for the alarms (optional)."
  type        = string
  default     = null
}

module "thumbnail" {
  source = "../.."

  name       = "thumbnail"
  lambda_zip = var.lambda_zip
  presets    = "default=100x100 small=64x64,fit=inside"
  tags       = { project = "thumbnail" }

  # The API keys are not Terraform's: put them in the secret this creates (see the
  # credentials_secret_arn output and the README's deploy section).
  cors_origins    = var.cors_origins
  alarm_topic_arn = var.alarm_topic_arn

  # The outputs stack_role_path and permissions_boundary_arn of infra/deploy-roles.
  role_path            = var.deploy_roles ? "/thumbnail-stack/" : "/"
  permissions_boundary = var.deploy_roles ? "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:policy/thumbnail-stack-boundary" : null
}

output "api_url" {
  description = "Base URL of the HTTP API."
  value       = module.thumbnail.api_url
}

output "originals_bucket" {
  description = "Upload originals here, under the originals prefix."
  value       = module.thumbnail.originals_bucket
}

output "credentials_secret_arn" {
  description = "Put the API keys here (aws secretsmanager put-secret-value)."
  value       = module.thumbnail.credentials_secret_arn
}

output "function_arn" {
  description = "For thumbnail backfill --function-arn."
  value       = module.thumbnail.function_arn
}

output "batch_role_arn" {
  description = "For thumbnail backfill --role-arn."
  value       = module.thumbnail.batch_role_arn
}

output "reports_bucket" {
  description = "For thumbnail backfill --manifest and --report."
  value       = module.thumbnail.reports_bucket
}

output "thumbnails_bucket" {
  description = "Thumbnails appear here."
  value       = module.thumbnail.thumbnails_bucket
}
