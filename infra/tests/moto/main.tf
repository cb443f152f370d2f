# The module applied against moto's server (infra/tests/run.py): every AWS endpoint points at
# it, so `plan` and `apply` run offline with the provider from a filesystem mirror.

terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}

variable "endpoint" {
  description = "moto's server, e.g. http://127.0.0.1:5000."
  type        = string
}

variable "lambda_zip" {
  description = "Any zip: moto stores the function without running it."
  type        = string
}

variable "single_bucket" {
  description = "The module's layout."
  type        = bool
}

variable "http_frontend" {
  description = "The module's HTTP front end."
  type        = string
}

variable "trigger" {
  description = "How uploads reach the function."
  type        = string
}

variable "cors_origins" {
  description = "Browser origins."
  type        = list(string)
  default     = []
}

variable "role_path" {
  description = "Where the stack's roles live (infra/deploy-roles' stack_role_path)."
  type        = string
}

variable "permissions_boundary" {
  description = "The boundary the stack's roles carry (infra/deploy-roles' permissions_boundary_arn)."
  type        = string
}

variable "cdn" {
  description = "CloudFront in front of the API (moto has no cache policies or CloudFront Functions: planned, not applied)."
  type        = bool
  default     = false
}

variable "cdn_aliases" {
  description = "Host names of the distribution (with cdn_certificate_arn)."
  type        = list(string)
  default     = []
}

variable "cdn_certificate_arn" {
  description = "An ACM certificate for cdn_aliases (only planned here)."
  type        = string
  default     = null
}

variable "api_keys" {
  description = "Written to the secret, write-only."
  type        = list(string)
  default     = null
  ephemeral   = true
}

variable "signing_key" {
  description = "Written to the secret, write-only."
  type        = string
  default     = null
  ephemeral   = true
}

variable "credentials_version" {
  description = "Write the credentials when above 0."
  type        = number
  default     = 0
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true

  endpoints {
    apigatewayv2   = var.endpoint
    cloudwatch     = var.endpoint
    iam            = var.endpoint
    kms            = var.endpoint
    lambda         = var.endpoint
    logs           = var.endpoint
    s3             = var.endpoint
    secretsmanager = var.endpoint
    sqs            = var.endpoint
    sts            = var.endpoint
  }
}

module "thumbnail" {
  source = "../.."

  name                 = "thumbtest"
  lambda_zip           = var.lambda_zip
  single_bucket        = var.single_bucket
  http_frontend        = var.http_frontend
  trigger              = var.trigger
  cors_origins         = var.cors_origins
  cdn                  = var.cdn
  cdn_aliases          = var.cdn_aliases
  cdn_certificate_arn  = var.cdn_certificate_arn
  api_keys             = var.api_keys
  signing_key          = var.signing_key
  credentials_version  = var.credentials_version
  force_destroy        = true
  role_path            = var.role_path
  permissions_boundary = var.permissions_boundary
}

output "function_name" {
  description = "The function."
  value       = module.thumbnail.function_name
}

output "credentials_secret_arn" {
  description = "The secret."
  value       = module.thumbnail.credentials_secret_arn
}

output "originals_bucket" {
  description = "The originals."
  value       = module.thumbnail.originals_bucket
}

output "cdn_url" {
  description = "The distribution's URL (null without the CDN)."
  value       = module.thumbnail.cdn_url
}
