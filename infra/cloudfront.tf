# The public face of the image objects: CloudFront reads the private bucket through an
# origin access control; the bucket policy lets it read images/* and thumbnails/* only,
# so any other path answers 403 and the bucket can't be listed.

resource "aws_cloudfront_origin_access_control" "images" {
  name                              = "${var.project}-images"
  description                       = "CloudFront reads the image bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_response_headers_policy" "images" {
  name    = "${var.project}-images"
  comment = "Image objects are never sniffed into something a browser would run."

  security_headers_config {
    content_type_options {
      override = true
    }
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "same-origin"
      override        = true
    }
    content_security_policy {
      content_security_policy = "default-src 'none'; img-src 'self'; sandbox"
      override                = true
    }
  }
}

data "aws_cloudfront_cache_policy" "caching_optimized" {
  name = "Managed-CachingOptimized"
}

resource "aws_cloudfront_distribution" "images" {
  #checkov:skip=CKV_AWS_68:No WAF: the distribution serves public, immutable image files read-only; there is nothing to inject into. Add a web ACL if abuse appears.
  #checkov:skip=CKV2_AWS_47:No WAF (see CKV_AWS_68): no request reaches code, so Log4j-style payloads have nowhere to go.
  #checkov:skip=CKV_AWS_86:Access logging of public image GETs is left to the operator (standard logging v2 to the logs bucket) to keep the default cost at zero.
  #checkov:skip=CKV_AWS_310:One origin: S3 is itself multi-AZ; a failover origin would need a replicated bucket (see CKV_AWS_144).
  #checkov:skip=CKV_AWS_374:No geo restriction: the catalog is public by design.
  #checkov:skip=CKV_AWS_305:No root object on purpose: only images/*, thumbnails/* and renditions/* are readable, the root answers 403.
  #checkov:skip=CKV2_AWS_42:A custom certificate is used whenever images_subdomain is set (the default); with it empty the CloudFront domain and its certificate are used.
  enabled         = true
  is_ipv6_enabled = true
  comment         = "${var.project} image objects"
  price_class     = "PriceClass_100"
  aliases         = local.images_host != "" ? [local.images_host] : []
  http_version    = "http2and3"

  origin {
    origin_id                = "images-bucket"
    domain_name              = aws_s3_bucket.images.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.images.id
  }

  # Renditions (infra/renditions.tf): the bucket first, the render function on a miss.
  origin {
    origin_id                = "render-function"
    domain_name              = local.render_origin_domain
    origin_access_control_id = aws_cloudfront_origin_access_control.render.id

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
      origin_read_timeout    = var.render_timeout
    }
  }

  origin_group {
    origin_id = "renditions"

    failover_criteria {
      status_codes = [403, 404]
    }
    member {
      origin_id = "images-bucket"
    }
    member {
      origin_id = "render-function"
    }
  }

  ordered_cache_behavior {
    path_pattern               = "renditions/*"
    target_origin_id           = "renditions"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = false # AVIF, WebP, JPEG and PNG are compressed already
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_optimized.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.images.id
  }

  default_cache_behavior {
    target_origin_id           = "images-bucket"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_optimized.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.images.id
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = local.images_host == ""
    acm_certificate_arn            = local.images_host != "" ? aws_acm_certificate_validation.images[0].certificate_arn : null
    ssl_support_method             = local.images_host != "" ? "sni-only" : null
    minimum_protocol_version       = local.images_host != "" ? "TLSv1.2_2021" : "TLSv1"
  }
}
