provider "google" {
  project = var.project
}

data "google_storage_bucket" "exports" {
  name = "acme-growthloop-exports"
}

resource "google_project_iam_custom_role" "writer" {
  project     = var.project
  role_id     = "growthloop_byob_writer"
  title       = "byob GrowthLoop exports"
  description = "Read and write GrowthLoop exports in gs://acme-growthloop-exports"
  permissions = ["storage.buckets.get", "storage.objects.create", "storage.objects.get", "storage.objects.list"]
  stage       = "GA"
}

resource "google_service_account" "growthloop" {
  project      = var.project
  account_id   = "growthloop-byob"
  display_name = "GrowthLoop exports (byob)"
  description  = "Writes GrowthLoop exports to gs://acme-growthloop-exports"
}

resource "google_storage_bucket_iam_member" "writer" {
  bucket     = data.google_storage_bucket.exports.name
  role       = google_project_iam_custom_role.writer.name
  member     = "serviceAccount:growthloop-byob@acme-data.iam.gserviceaccount.com"
  depends_on = [google_service_account.growthloop]
}

resource "google_project_iam_custom_role" "snowflake" {
  project     = var.project
  role_id     = "growthloop_byob_snowflake"
  title       = "byob Snowflake unloads"
  description = "Snowflake storage integration access to gs://acme-growthloop-exports"
  permissions = ["storage.buckets.get", "storage.objects.create", "storage.objects.delete", "storage.objects.get", "storage.objects.list"]
  stage       = "GA"
}

resource "google_storage_bucket_iam_member" "snowflake" {
  bucket = data.google_storage_bucket.exports.name
  role   = google_project_iam_custom_role.snowflake.name
  member = "serviceAccount:${snowflake_storage_integration.this.storage_gcp_service_account}"
}

resource "google_service_account_key" "growthloop" {
  service_account_id = google_service_account.growthloop.name
}

provider "snowflake" {
  preview_features_enabled = ["snowflake_stage_resource", "snowflake_storage_integration_resource"]
}

resource "snowflake_storage_integration" "this" {
  name                      = "FLYWHEEL_APP_GCS"
  type                      = "EXTERNAL_STAGE"
  storage_provider          = "GCS"
  enabled                   = true
  storage_allowed_locations = ["gcs://acme-growthloop-exports/exports/"]
}

resource "snowflake_stage" "exports" {
  name                = "FLYWHEEL_EXTERNAL_STAGE"
  database            = "ANALYTICS"
  schema              = "FLYWHEEL_SYSTEM"
  url                 = "gcs://acme-growthloop-exports/exports/1234/"
  storage_integration = snowflake_storage_integration.this.name
}

resource "snowflake_grant_privileges_to_account_role" "usage_on_integration" {
  account_role_name = "GROWTHLOOP"
  privileges        = ["USAGE"]
  on_account_object {
    object_type = "INTEGRATION"
    object_name = "FLYWHEEL_APP_GCS"
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
