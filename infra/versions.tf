terraform {
  # 1.11: write-only arguments and ephemeral resources (the Django secret never reaches the state).
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0" # the one `make test` validates and applies (tests/infra/test_terraform.py)
    }
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge(var.tags, { Project = var.project })
  }
}

# CloudFront only takes ACM certificates from us-east-1.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = merge(var.tags, { Project = var.project })
  }
}
