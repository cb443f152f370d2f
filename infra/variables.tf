variable "name" {
  description = "Prefix of every resource name (lowercase letters, digits and hyphens)."
  type        = string
  default     = "thumbnail"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 characters: lowercase letters, digits, hyphens, starting with a letter."
  }
}

variable "lambda_zip" {
  description = "Path of the function's zip, as built by `cargo lambda build --profile lambda --arm64 --output-format zip -p thumbnail-lambda` (target/lambda/bootstrap/bootstrap.zip)."
  type        = string
}

variable "architecture" {
  description = "CPU architecture the zip was built for: arm64 (cheaper per GB-second) or x86_64."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "single_bucket" {
  description = "Keep originals and thumbnails in one bucket under two prefixes, instead of two buckets."
  type        = bool
  default     = false
}

variable "originals_prefix" {
  description = "Folder of the originals; only uploads under it trigger the function."
  type        = string
  default     = "uploads"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.originals_prefix))
    error_message = "originals_prefix must be a non-empty folder path without leading or trailing slashes."
  }
}

variable "thumbnails_prefix" {
  description = "Folder of the thumbnails; it must differ from originals_prefix so thumbnails never trigger the function."
  type        = string
  default     = "thumbnails"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.thumbnails_prefix))
    error_message = "thumbnails_prefix must be a non-empty folder path without leading or trailing slashes."
  }
}

variable "trigger_suffixes" {
  description = "File name endings that trigger the function (one notification rule each); empty means any object under originals_prefix (the function reads the format from the bytes)."
  type        = list(string)
  default     = []
}

variable "presets" {
  description = "Thumbnail presets, `name=WxH[,fit=..][,format=..][,quality=..]` separated by spaces; the first is the default."
  type        = string
  default     = "default=100x100"
}

variable "memory_mb" {
  description = "Function memory in MB. A 50 MP JPEG peaks under 32 MB, so 128 works; more memory also buys more CPU."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_mb >= 128 && var.memory_mb <= 10240
    error_message = "memory_mb must be between 128 and 10240."
  }
}

variable "timeout_seconds" {
  description = "Function timeout in seconds (API Gateway gives up at 29 s)."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout_seconds >= 3 && var.timeout_seconds <= 900
    error_message = "timeout_seconds must be between 3 and 900."
  }
}

variable "reserved_concurrency" {
  description = "Instances reserved for (and the most run by) the function. null (the default): with http_frontend = function_url, 10 (a function URL has no throttle of its own, so this bounds what a flood of requests can start; an account needs 10 more unreserved, so a new account with a quota of 10 asks for a raise or uses api_gateway); otherwise none, so the account's unreserved pool is shared and a new account can deploy (API Gateway throttles with api_throttle_rate, uploads are bounded by queue_max_concurrency)."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 1, false)
    error_message = "reserved_concurrency must be null or at least 1."
  }
}

variable "trigger" {
  description = "How uploads reach the function: queue (S3 -> SQS -> Lambda: at most queue_max_concurrency instances for uploads, retries and a dead-letter queue) or direct (S3 invokes the function asynchronously)."
  type        = string
  default     = "queue"

  validation {
    condition     = contains(["queue", "direct"], var.trigger)
    error_message = "trigger must be queue or direct."
  }
}

variable "queue_max_concurrency" {
  description = "Most function instances working the upload queue at once (2-1000), so a bulk upload cannot take the capacity the HTTP API needs."
  type        = number
  default     = 10

  validation {
    condition     = var.queue_max_concurrency >= 2 && var.queue_max_concurrency <= 1000
    error_message = "queue_max_concurrency must be between 2 and 1000 (AWS's bounds)."
  }
}

variable "queue_max_receives" {
  description = "Attempts per upload message before it moves to the dead-letter queue."
  type        = number
  default     = 5
}

variable "max_pixels" {
  description = "Largest image accepted, in pixels (decompression-bomb guard)."
  type        = number
  default     = 100000000
}

variable "max_input_bytes" {
  description = "Largest original accepted, in bytes."
  type        = number
  default     = 52428800
}

variable "http_frontend" {
  description = "How the one-request HTTP API is exposed: api_gateway (HTTP API), function_url, or none (S3 trigger only)."
  type        = string
  default     = "api_gateway"

  validation {
    condition     = contains(["api_gateway", "function_url", "none"], var.http_frontend)
    error_message = "http_frontend must be api_gateway, function_url or none."
  }
}

variable "api_keys" {
  description = "Bearer keys for the HTTP API, written to the credentials secret (write-only: never in the plan or the state). Needs credentials_version > 0; or leave unset and put the secret's value with `aws secretsmanager put-secret-value`."
  type        = list(string)
  default     = null
  ephemeral   = true
}

variable "signing_key" {
  description = "Key for HMAC-signed URLs (`thumbnail sign`), written to the credentials secret like api_keys."
  type        = string
  default     = null
  ephemeral   = true
}

variable "credentials_version" {
  description = "Bump to write api_keys and signing_key to the secret again; 0 (the default) leaves the secret's value to `aws secretsmanager put-secret-value`."
  type        = number
  default     = 0
}

variable "credentials_secret_arn" {
  description = "An existing Secrets Manager secret with the credentials (JSON {\"api_keys\": [...], \"signing_key\": \"...\"}); null creates one. With no value in the secret, the HTTP API answers 503."
  type        = string
  default     = null
}

variable "cors_origins" {
  description = "Origins a browser page may call the API and upload to presigned URLs from (e.g. https://app.example.com); empty: none."
  type        = list(string)
  default     = []
}

variable "alarm_topic_arn" {
  description = "SNS topic the alarms (function errors and throttles, dead letters, queue age, API 5xx) notify; null: alarms without actions."
  type        = string
  default     = null
}

variable "backfill" {
  description = "Create what S3 Batch Operations needs to thumbnail existing originals (`thumbnail backfill`): a reports bucket and the job's role."
  type        = bool
  default     = true
}

variable "public_reads" {
  description = "Let GET requests of thumbnails and info through without credentials (originals still need them, see public_originals)."
  type        = bool
  default     = false
}

variable "public_originals" {
  description = "With public_reads, let originals through without credentials too: they keep their EXIF, which may hold the photo's location."
  type        = bool
  default     = false
}

variable "api_throttle_rate" {
  description = "API Gateway steady-state requests per second."
  type        = number
  default     = 50
}

variable "api_throttle_burst" {
  description = "API Gateway burst of requests."
  type        = number
  default     = 100
}

variable "versioning" {
  description = "Keep previous versions of overwritten objects (noncurrent versions expire after noncurrent_version_days)."
  type        = bool
  default     = true
}

variable "noncurrent_version_days" {
  description = "Days before a previous object version is deleted."
  type        = number
  default     = 30
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the function's and the API's logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete buckets that still hold objects (for test stacks)."
  type        = bool
  default     = false
}

variable "role_path" {
  description = "IAM path of the roles the stack creates (the function's, the backfill job's). With infra/deploy-roles, its `stack_role_path` output: the apply role may create roles only there."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.role_path))
    error_message = "role_path must start and end with /."
  }
}

variable "permissions_boundary" {
  description = "ARN of the permissions boundary every role the stack creates carries. With infra/deploy-roles, its `permissions_boundary_arn` output (the apply role may create no role without it)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "cdn" {
  description = "Put a CloudFront distribution in front of the HTTP API (ignored when http_frontend is none): thumbnails cached at the edge by path, options and the Accept header's format class."
  type        = bool
  default     = true
}

variable "cdn_default_ttl" {
  description = "Seconds CloudFront keeps a thumbnail whose response names no lifetime (the function's Cache-Control wins otherwise)."
  type        = number
  default     = 86400
}

variable "cdn_price_class" {
  description = "CloudFront price class: PriceClass_100 (North America, Europe), PriceClass_200, or PriceClass_All."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.cdn_price_class)
    error_message = "cdn_price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "cdn_aliases" {
  description = "Host names of the distribution (need cdn_certificate_arn, a certificate in us-east-1 covering them)."
  type        = list(string)
  default     = []
}

variable "cdn_certificate_arn" {
  description = "ACM certificate (us-east-1) for cdn_aliases; null: the *.cloudfront.net certificate."
  type        = string
  default     = null
}

variable "cdn_web_acl_id" {
  description = "A WAF web ACL (its ARN) for the distribution; null: none."
  type        = string
  default     = null
}

variable "cdn_log_bucket" {
  description = "Bucket domain name (e.g. logs.s3.amazonaws.com, ACLs enabled) for CloudFront's standard access logs; null: no logs."
  type        = string
  default     = null
}

variable "cdn_geo_allow" {
  description = "ISO 3166-1 alpha-2 country codes the CDN serves (empty: every country)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for c in var.cdn_geo_allow : can(regex("^[A-Z]{2}$", c))])
    error_message = "cdn_geo_allow takes two-letter country codes such as DE or US."
  }
}
