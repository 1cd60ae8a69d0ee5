provider "aws" {
  region = var.region
}

data "aws_caller_identity" "current" {
}

data "aws_s3_bucket" "exports" {
  bucket = "acme-growthloop-exports"
}

resource "aws_iam_policy" "growthloop" {
  name        = "growthloop-byob-access"
  description = "byob: GrowthLoop exports to s3://acme-growthloop-exports/exports/"
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
        "arn:aws:s3:::acme-growthloop-exports/exports/*"
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
            "exports/",
            "exports/*"
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

resource "aws_iam_policy" "snowflake" {
  name        = "growthloop-byob-snowflake-access"
  description = "byob: Snowflake unloads to s3://acme-growthloop-exports/exports/"
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
        "arn:aws:s3:::acme-growthloop-exports/exports/*"
      ]
    },
    {
      "Sid": "DeleteObjectsUnderPrefix",
      "Effect": "Allow",
      "Action": [
        "s3:DeleteObject",
        "s3:DeleteObjectVersion"
      ],
      "Resource": [
        "arn:aws:s3:::acme-growthloop-exports/exports/*"
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
            "exports/",
            "exports/*"
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

resource "aws_iam_role" "snowflake" {
  name               = "growthloop-byob-snowflake"
  description        = "byob: assumed by Snowflake's storage integration"
  assume_role_policy = <<-EOT
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "SnowflakeStorageIntegration",
      "Effect": "Allow",
      "Principal": {
        "AWS": "${snowflake_storage_integration.this.storage_aws_iam_user_arn}"
      },
      "Action": [
        "sts:AssumeRole"
      ],
      "Condition": {
        "StringEquals": {
          "sts:ExternalId": "${snowflake_storage_integration.this.storage_aws_external_id}"
        }
      }
    }
  ]
}
EOT
  tags = {
    created-by = "byob"
  }
}

resource "aws_iam_role_policy_attachment" "snowflake" {
  role       = aws_iam_role.snowflake.name
  policy_arn = aws_iam_policy.snowflake.arn
}

resource "aws_iam_user" "growthloop" {
  name = "growthloop-byob-exporter"
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

provider "snowflake" {
  preview_features_enabled = ["snowflake_stage_resource", "snowflake_storage_integration_resource"]
}

resource "snowflake_storage_integration" "this" {
  name                      = "FLYWHEEL_APP_AWS"
  type                      = "EXTERNAL_STAGE"
  storage_provider          = "S3"
  enabled                   = true
  storage_aws_role_arn      = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/growthloop-byob-snowflake"
  storage_allowed_locations = ["s3://acme-growthloop-exports/exports/"]
}

resource "snowflake_stage" "exports" {
  name                = "FLYWHEEL_EXTERNAL_STAGE"
  database            = "ANALYTICS"
  schema              = "FLYWHEEL_SYSTEM"
  url                 = "s3://acme-growthloop-exports/exports/1234/"
  storage_integration = snowflake_storage_integration.this.name
}

resource "snowflake_grant_privileges_to_account_role" "usage_on_integration" {
  account_role_name = "GROWTHLOOP"
  privileges        = ["USAGE"]
  on_account_object {
    object_type = "INTEGRATION"
    object_name = "FLYWHEEL_APP_AWS"
  }
  depends_on = [snowflake_storage_integration.this]
}

resource "snowflake_grant_privileges_to_account_role" "usage_on_database" {
  account_role_name = "GROWTHLOOP"
  privileges        = ["USAGE"]
  on_account_object {
    object_type = "DATABASE"
    object_name = "ANALYTICS"
  }
}

resource "snowflake_grant_privileges_to_account_role" "usage_on_schema" {
  account_role_name = "GROWTHLOOP"
  privileges        = ["USAGE"]
  on_schema {
    schema_name = "\"ANALYTICS\".\"FLYWHEEL_SYSTEM\""
  }
}

resource "snowflake_grant_privileges_to_account_role" "usage_on_stage" {
  account_role_name = "GROWTHLOOP"
  privileges        = ["USAGE"]
  on_schema_object {
    object_type = "STAGE"
    object_name = "\"ANALYTICS\".\"FLYWHEEL_SYSTEM\".\"FLYWHEEL_EXTERNAL_STAGE\""
  }
  depends_on = [snowflake_stage.exports]
}
