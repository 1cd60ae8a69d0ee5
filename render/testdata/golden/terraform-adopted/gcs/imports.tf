import {
  to = google_project_iam_custom_role.writer
  id = "projects/acme-data/roles/acme_byob_writer"
}

import {
  to = google_service_account.growthloop
  id = "projects/acme-data/serviceAccounts/acme-byob@acme-data.iam.gserviceaccount.com"
}

import {
  to = google_storage_bucket_iam_member.writer
  id = "b/acme-growthloop-exports projects/acme-data/roles/acme_byob_writer serviceAccount:acme-byob@acme-data.iam.gserviceaccount.com"
}

