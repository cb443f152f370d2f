# CloudFront in front of the HTTP API: thumbnails (presets and sizes on demand) are cached at
# the edge, keyed by path, query (the options, and a signed URL's signature) and the format
# class of the viewer's Accept (image/avif, image/webp or other, computed by a CloudFront
# Function), never the raw header. Everything else (uploads, originals, deletes) passes
# through uncached, with the viewer's headers (Authorization included: caching is off there).
#
# The origin (API Gateway's or the function URL's own address) stays reachable on the
# internet, so CloudFront adds a secret header on its way there and the function answers
# nothing without it (THUMBNAIL_ORIGIN_SECRET): the WAF, geo rules and cache cannot be gone
# around. Origin access control would sign with the Authorization header, which carries our
# API keys, and needs clients to hash upload bodies; a secret header needs neither.

locals {
  cdn = var.cdn && var.http_frontend != "none"
  # The origin's host name: the HTTP API's endpoint or the function URL, without scheme or path.
  http_origin = (
    var.http_frontend == "api_gateway" ? replace(aws_apigatewayv2_api.this[0].api_endpoint, "https://", "") :
    var.http_frontend == "function_url" ? split("/", aws_lambda_function_url.this[0].function_url)[2] :
    null
  )
  # AWS's managed policies (the same ids in every account).
  caching_disabled              = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
  all_viewer_except_host_header = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
  security_headers              = "67f7725c-6f97-4210-82d7-5512b31e9d03"
}

# 244 random bits (two UUIDv4, made by Terraform itself), kept once made; rotate with
# `terraform apply -replace='module.thumbnail.terraform_data.origin_secret[0]'`. It is in the
# state (as CloudFront's origin header is); it only proves a request came through CloudFront.
resource "terraform_data" "origin_secret" {
  count = local.cdn ? 1 : 0
  input = replace("${uuid()}${uuid()}", "-", "")

  lifecycle {
    ignore_changes = [input]
  }
}

resource "aws_cloudfront_function" "accept" {
  count   = local.cdn ? 1 : 0
  name    = "${var.name}-accept"
  runtime = "cloudfront-js-2.0"
  comment = "Accept -> image/avif | image/webp | none, the cache key's format class"
  publish = true
  code    = file("${path.module}/cdn/accept.js")
}

resource "aws_cloudfront_cache_policy" "thumbnails" {
  count       = local.cdn ? 1 : 0
  name        = "${var.name}-thumbnails"
  comment     = "Path, every query option, the format class; Authorization so that credentialed reads are never shared"
  min_ttl     = 0
  default_ttl = var.cdn_default_ttl
  max_ttl     = 31536000

  parameters_in_cache_key_and_forwarded_to_origin {
    # Thumbnails are already compressed: gzip or brotli would only cost CPU.
    enable_accept_encoding_gzip   = false
    enable_accept_encoding_brotli = false

    headers_config {
      header_behavior = "whitelist"
      headers {
        items = ["accept", "authorization"]
      }
    }
    query_strings_config {
      query_string_behavior = "all"
    }
    cookies_config {
      cookie_behavior = "none"
    }
  }
}

resource "aws_cloudfront_distribution" "this" {
  # checkov:skip=CKV_AWS_68:A WAF web ACL is the operator's choice (and cost); pass one with cdn_web_acl_id. Every request is still authorised by the function.
  # checkov:skip=CKV2_AWS_47:A WAF web ACL is the operator's choice; see CKV_AWS_68.
  # checkov:skip=CKV_AWS_86:Access logs need a log bucket of the operator's; set cdn_log_bucket to turn them on.
  # checkov:skip=CKV_AWS_174:The default *.cloudfront.net certificate allows no minimum protocol setting; with cdn_certificate_arn the minimum is TLSv1.2_2021.
  # checkov:skip=CKV2_AWS_42:A custom certificate needs the operator's domain; cdn_certificate_arn and cdn_aliases take one.
  # checkov:skip=CKV_AWS_310:One origin (the function): there is nothing to fail over to.
  # checkov:skip=CKV_AWS_305:An API, not a website: there is no root object.
  # checkov:skip=CKV_AWS_374:Thumbnails are for every country by default; cdn_geo_allow restricts them to a list.
  # checkov:skip=CKV2_AWS_32:The managed SecurityHeadersPolicy is attached to every behavior (checkov does not follow managed ids).
  count           = local.cdn ? 1 : 0
  enabled         = true
  is_ipv6_enabled = true
  comment         = "${var.name}: thumbnails at the edge"
  price_class     = var.cdn_price_class
  aliases         = var.cdn_aliases
  web_acl_id      = var.cdn_web_acl_id
  http_version    = "http2and3"

  origin {
    origin_id   = "api"
    domain_name = local.http_origin

    custom_header {
      name  = "X-Origin-Verify"
      value = terraform_data.origin_secret[0].output
    }

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }

  # Uploads, originals, deletes, presigned uploads: not cached, the viewer's headers passed on.
  default_cache_behavior {
    target_origin_id           = "api"
    viewer_protocol_policy     = "https-only"
    allowed_methods            = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = local.caching_disabled
    origin_request_policy_id   = local.all_viewer_except_host_header
    response_headers_policy_id = local.security_headers
    compress                   = false
  }

  ordered_cache_behavior {
    path_pattern               = "/thumbnails/*"
    target_origin_id           = "api"
    viewer_protocol_policy     = "https-only"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = aws_cloudfront_cache_policy.thumbnails[0].id
    response_headers_policy_id = local.security_headers
    compress                   = false

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.accept[0].arn
    }
  }

  dynamic "logging_config" {
    for_each = var.cdn_log_bucket == null ? [] : [var.cdn_log_bucket]
    content {
      bucket          = logging_config.value
      prefix          = "${var.name}/"
      include_cookies = false
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = length(var.cdn_geo_allow) > 0 ? "whitelist" : "none"
      locations        = var.cdn_geo_allow
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = var.cdn_certificate_arn == null
    acm_certificate_arn            = var.cdn_certificate_arn
    ssl_support_method             = var.cdn_certificate_arn == null ? null : "sni-only"
    minimum_protocol_version       = var.cdn_certificate_arn == null ? "TLSv1" : "TLSv1.2_2021"
  }

  tags = var.tags
}
