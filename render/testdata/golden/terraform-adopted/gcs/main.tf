provider "google" {
  project = var.project
}

data "google_storage_bucket" "exports" {
  name = "acme-growthloop-exports"
}

resource "google_project_iam_custom_role" "writer" {
  project     = var.project
  role_id     = "acme_byob_writer"
  title       = "byob GrowthLoop exports"
  description = "Read and write GrowthLoop exports in gs://acme-growthloop-exports"
  permissions = ["storage.buckets.get", "storage.objects.create", "storage.objects.get", "storage.objects.list"]
  stage       = "GA"
}

resource "google_service_account" "growthloop" {
  project      = var.project
  account_id   = "acme-byob"
  display_name = "GrowthLoop exports (byob)"
  description  = "Writes GrowthLoop exports to gs://acme-growthloop-exports"
}

resource "google_storage_bucket_iam_member" "writer" {
  bucket     = data.google_storage_bucket.exports.name
  role       = google_project_iam_custom_role.writer.name
  member     = "serviceAccount:acme-byob@acme-data.iam.gserviceaccount.com"
  depends_on = [google_service_account.growthloop]
}

resource "google_service_account_key" "growthloop" {
  service_account_id = google_service_account.growthloop.name
}
