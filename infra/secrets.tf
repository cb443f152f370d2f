# The HTTP API's credentials live in Secrets Manager, never in the function's environment, the
# plan or the state: the function reads the secret at start by ARN (THUMBNAIL_CREDENTIALS_SECRET),
# and its role may read that one secret.

resource "aws_secretsmanager_secret" "credentials" {
  # checkov:skip=CKV2_AWS_57:API keys are rotated by the operator (bump credentials_version or put a new value); a rotation Lambda could not hand the new keys to the clients.
  count                   = var.credentials_secret_arn == null ? 1 : 0
  name                    = "${var.name}-credentials"
  description             = "${var.name}: API keys and URL signing key, JSON {\"api_keys\": [...], \"signing_key\": \"...\"}"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = var.force_destroy ? 0 : 7
  tags                    = var.tags
}

# Written only when asked (credentials_version > 0), from ephemeral variables into a
# write-only attribute: Terraform sends the value to AWS and keeps no copy of it.
resource "aws_secretsmanager_secret_version" "credentials" {
  count     = var.credentials_secret_arn == null && var.credentials_version > 0 ? 1 : 0
  secret_id = aws_secretsmanager_secret.credentials[0].id
  secret_string_wo = jsonencode({
    api_keys    = var.api_keys == null ? [] : var.api_keys
    signing_key = var.signing_key
  })
  secret_string_wo_version = var.credentials_version
}

locals {
  credentials_secret_arn = var.credentials_secret_arn == null ? aws_secretsmanager_secret.credentials[0].arn : var.credentials_secret_arn
}
