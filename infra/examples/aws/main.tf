# A complete stack: `terraform init && terraform apply` in this folder after building the zip
# (see the README's deploy section).

terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40, < 7.0"
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

variable "api_keys" {
  description = "Bearer keys for the HTTP API (set TF_VAR_api_keys='[\"...\"]'; never commit them)."
  type        = list(string)
  sensitive   = true
}

module "thumbnail" {
  source = "../.."

  name       = "thumbnail"
  lambda_zip = var.lambda_zip
  api_keys   = var.api_keys
  presets    = "default=100x100 small=64x64,fit=inside"
  tags       = { project = "thumbnail" }
}

output "api_url" {
  description = "Base URL of the HTTP API."
  value       = module.thumbnail.api_url
}

output "originals_bucket" {
  description = "Upload originals here, under the originals prefix."
  value       = module.thumbnail.originals_bucket
}

output "thumbnails_bucket" {
  description = "Thumbnails appear here."
  value       = module.thumbnail.thumbnails_bucket
}
