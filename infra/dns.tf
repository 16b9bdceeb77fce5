# Route 53 and ACM: DNS-validated certificates, the portal's record (the seed's
# image-site.<domain>) and, when images_subdomain is set, the images domain on CloudFront.

data "aws_route53_zone" "main" {
  name         = var.domain_name
  private_zone = false
}

# The load balancer's certificate: the domain and every name under it.
resource "aws_acm_certificate" "main" {
  domain_name               = var.domain_name
  subject_alternative_names = ["*.${var.domain_name}"]
  validation_method         = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

# The domain and its wildcard share one validation record, hence allow_overwrite.
resource "aws_route53_record" "main_validation" {
  for_each = {
    for dvo in aws_acm_certificate.main.domain_validation_options : dvo.domain_name => {
      name   = dvo.resource_record_name
      record = dvo.resource_record_value
      type   = dvo.resource_record_type
    }
  }

  allow_overwrite = true
  zone_id         = data.aws_route53_zone.main.zone_id
  name            = each.value.name
  type            = each.value.type
  records         = [each.value.record]
  ttl             = 300
}

resource "aws_acm_certificate_validation" "main" {
  certificate_arn         = aws_acm_certificate.main.arn
  validation_record_fqdns = [for record in aws_route53_record.main_validation : record.fqdn]
}

# CloudFront's certificate must live in us-east-1.
resource "aws_acm_certificate" "images" {
  count    = local.images_host != "" ? 1 : 0
  provider = aws.us_east_1

  domain_name       = local.images_host
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "images_validation" {
  for_each = {
    for dvo in(local.images_host != "" ? aws_acm_certificate.images[0].domain_validation_options : []) : dvo.domain_name => {
      name   = dvo.resource_record_name
      record = dvo.resource_record_value
      type   = dvo.resource_record_type
    }
  }

  allow_overwrite = true
  zone_id         = data.aws_route53_zone.main.zone_id
  name            = each.value.name
  type            = each.value.type
  records         = [each.value.record]
  ttl             = 300
}

resource "aws_acm_certificate_validation" "images" {
  count    = local.images_host != "" ? 1 : 0
  provider = aws.us_east_1

  certificate_arn         = aws_acm_certificate.images[0].arn
  validation_record_fqdns = [for record in aws_route53_record.images_validation : record.fqdn]
}

# The seed's CNAME: image-site.<domain> -> the Beanstalk environment.
resource "aws_route53_record" "portal" {
  zone_id = data.aws_route53_zone.main.zone_id
  name    = local.portal_host
  type    = "CNAME"
  ttl     = 300
  records = [aws_elastic_beanstalk_environment.portal.cname]
}

resource "aws_route53_record" "images" {
  for_each = local.images_host != "" ? toset(["A", "AAAA"]) : toset([])

  zone_id = data.aws_route53_zone.main.zone_id
  name    = local.images_host
  type    = each.key

  alias {
    name                   = aws_cloudfront_distribution.images.domain_name
    zone_id                = aws_cloudfront_distribution.images.hosted_zone_id
    evaluate_target_health = false
  }
}
