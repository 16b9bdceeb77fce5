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

resource "aws_acm_certificate_validation" "main" {
  certificate_arn         = aws_acm_certificate.main.arn
  validation_record_fqdns = [for dvo in aws_acm_certificate.main.domain_validation_options : aws_route53_record.validation[dvo.domain_name].fqdn]
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

resource "aws_acm_certificate_validation" "images" {
  count    = local.images_host != "" ? 1 : 0
  provider = aws.us_east_1

  certificate_arn         = aws_acm_certificate.images[0].arn
  validation_record_fqdns = [for dvo in aws_acm_certificate.images[0].domain_validation_options : aws_route53_record.validation[dvo.domain_name].fqdn]
}

# Both certificates' DNS validation records, by domain. The domain and its wildcard share
# one record, hence allow_overwrite.
resource "aws_route53_record" "validation" {
  for_each = {
    for dvo in flatten([
      for certificate in concat([aws_acm_certificate.main], aws_acm_certificate.images) :
      [for dvo in certificate.domain_validation_options : dvo]
    ]) : dvo.domain_name => dvo
  }

  allow_overwrite = true
  zone_id         = data.aws_route53_zone.main.zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
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
