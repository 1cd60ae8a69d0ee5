output "bucket" {
  description = "the export bucket"
  value       = data.google_storage_bucket.exports.name
}

output "location" {
  description = "the bucket's location"
  value       = data.google_storage_bucket.exports.location
}

output "gcp_project" {
  description = "the bucket's project"
  value       = var.project
}

output "gcp_service_account" {
  description = "GrowthLoop's service account"
  value       = google_service_account.growthloop.email
}

output "gcp_private_key" {
  description = "GrowthLoop's key file, base64: in the Terraform state too"
  value       = google_service_account_key.growthloop.private_key
  sensitive   = true
}

output "integration" {
  description = "the storage integration"
  value       = snowflake_storage_integration.this.name
}

output "stage" {
  description = "the stage"
  value       = "ANALYTICS.FLYWHEEL_SYSTEM.FLYWHEEL_EXTERNAL_STAGE"
}

output "provider" {
  description = "the bucket's cloud"
  value       = "gcs"
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

