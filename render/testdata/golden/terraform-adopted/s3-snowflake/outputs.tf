output "role_arn" {
  description = "the role Snowflake assumes"
  value       = aws_iam_role.snowflake.arn
}

output "bucket" {
  description = "the export bucket"
  value       = data.aws_s3_bucket.exports.id
}

output "region" {
  description = "the bucket's region"
  value       = var.region
}

output "aws_access_key_id" {
  description = "GrowthLoop's access key id"
  value       = aws_iam_access_key.growthloop.id
}

output "aws_secret_access_key" {
  description = "GrowthLoop's secret access key: in the Terraform state too"
  value       = aws_iam_access_key.growthloop.secret
  sensitive   = true
}

output "integration" {
  description = "the storage integration"
  value       = snowflake_storage_integration.this.name
}

output "external_id" {
  description = "the integration's external ID, which the role's trust requires"
  value       = snowflake_storage_integration.this.storage_aws_external_id
}

output "stage" {
  description = "the stage"
  value       = "ANALYTICS.FLYWHEEL_SYSTEM.FLYWHEEL_EXTERNAL_STAGE"
}

output "provider" {
  description = "the bucket's cloud"
  value       = "s3"
}

output "prefix" {
  description = "exports are written under it"
  value       = "exports/"
}

output "setup_name" {
  description = "byob's name of the setup (--name)"
  value       = "growthloop"
}

output "org_id" {
  description = "GrowthLoop organisation id"
  value       = "1234"
}

