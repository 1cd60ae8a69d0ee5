provider "aws" {
  region = var.region
}

data "aws_caller_identity" "current" {
}

data "aws_s3_bucket" "exports" {
  bucket = "acme-growthloop-exports"
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
