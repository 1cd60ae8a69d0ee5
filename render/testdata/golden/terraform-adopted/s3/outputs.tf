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

output "provider" {
  description = "the bucket's cloud"
  value       = "s3"
}

output "prefix" {
  description = "exports are written under it"
  value       = "growthloop/"
}

output "setup_name" {
  description = "byob's name of the setup (--name)"
  value       = "acme"
}

