provider "aws" {
  region = var.region
}

data "aws_caller_identity" "current" {
}

resource "aws_s3_bucket" "exports" {
  bucket = "acme-growthloop-exports"
}

resource "aws_s3_bucket_public_access_block" "exports" {
  bucket                  = aws_s3_bucket.exports.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "exports" {
  bucket = aws_s3_bucket.exports.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_policy" "exports" {
  bucket = aws_s3_bucket.exports.id
  policy = <<-EOT
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyInsecureTransport",
      "Effect": "Deny",
      "Principal": {
        "AWS": "*"
      },
      "Action": [
        "s3:*"
      ],
      "Resource": [
        "arn:aws:s3:::acme-growthloop-exports",
        "arn:aws:s3:::acme-growthloop-exports/*"
      ],
      "Condition": {
        "Bool": {
          "aws:SecureTransport": "false"
        }
      }
    }
  ]
}
EOT
}

resource "aws_s3_bucket_ownership_controls" "exports" {
  bucket = aws_s3_bucket.exports.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "exports" {
  bucket = aws_s3_bucket.exports.id
  rule {
    id     = "byob-expire-exports"
    status = "Enabled"
    filter {
      prefix = "growthloop/"
    }
    expiration {
      days = 14
    }
    noncurrent_version_expiration {
      noncurrent_days = 14
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_iam_policy" "growthloop" {
  name        = "acme-byob-access"
  description = "byob: GrowthLoop exports to s3://acme-growthloop-exports/growthloop/"
  policy      = <<-EOT
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ReadWriteObjectsUnderPrefix",
      "Effect": "Allow",
      "Action": [
        "s3:PutObject",
        "s3:GetObject",
        "s3:GetObjectVersion"
      ],
      "Resource": [
        "arn:aws:s3:::acme-growthloop-exports/growthloop/*"
      ]
    },
    {
      "Sid": "ListPrefix",
      "Effect": "Allow",
      "Action": [
        "s3:ListBucket"
      ],
      "Resource": [
        "arn:aws:s3:::acme-growthloop-exports"
      ],
      "Condition": {
        "StringLike": {
          "s3:prefix": [
            "growthloop/",
            "growthloop/*"
          ]
        }
      }
    },
    {
      "Sid": "LocateBucket",
      "Effect": "Allow",
      "Action": [
        "s3:GetBucketLocation"
      ],
      "Resource": [
        "arn:aws:s3:::acme-growthloop-exports"
      ]
    }
  ]
}
EOT
  tags = {
    created-by = "byob"
  }
}

resource "aws_iam_user" "growthloop" {
  name = "acme-byob-exporter"
  tags = {
    created-by = "byob"
  }
}

resource "aws_iam_user_policy_attachment" "growthloop" {
  user       = aws_iam_user.growthloop.name
  policy_arn = aws_iam_policy.growthloop.arn
}

resource "aws_iam_access_key" "growthloop" {
  user = aws_iam_user.growthloop.name
}
