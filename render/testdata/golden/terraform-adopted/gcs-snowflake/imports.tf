import {
  to = google_project_iam_custom_role.writer
  id = "projects/acme-data/roles/growthloop_byob_writer"
}

import {
  to = google_service_account.growthloop
  id = "projects/acme-data/serviceAccounts/growthloop-byob@acme-data.iam.gserviceaccount.com"
}

import {
  to = google_storage_bucket_iam_member.writer
  id = "b/acme-growthloop-exports projects/acme-data/roles/growthloop_byob_writer serviceAccount:growthloop-byob@acme-data.iam.gserviceaccount.com"
}

import {
  to = google_project_iam_custom_role.snowflake
  id = "projects/acme-data/roles/growthloop_byob_snowflake"
}

import {
  to = google_storage_bucket_iam_member.snowflake
  id = "b/acme-growthloop-exports projects/acme-data/roles/growthloop_byob_snowflake serviceAccount:abc123@gcpuscentral1-1dfa.iam.gserviceaccount.com"
}

import {
  to = snowflake_storage_integration.this
  id = "FLYWHEEL_APP_GCS"
}

import {
  to = snowflake_stage.exports
  id = "ANALYTICS|FLYWHEEL_SYSTEM|FLYWHEEL_EXTERNAL_STAGE"
}

import {
  to = snowflake_grant_privileges_to_account_role.usage_on_integration
  id = "\"GROWTHLOOP\"|false|false|USAGE|OnAccountObject|INTEGRATION|\"FLYWHEEL_APP_GCS\""
}

import {
  to = snowflake_grant_privileges_to_account_role.usage_on_database
  id = "\"GROWTHLOOP\"|false|false|USAGE|OnAccountObject|DATABASE|\"ANALYTICS\""
}

import {
  to = snowflake_grant_privileges_to_account_role.usage_on_schema
  id = "\"GROWTHLOOP\"|false|false|USAGE|OnSchema|OnSchema|\"ANALYTICS\".\"FLYWHEEL_SYSTEM\""
}

import {
  to = snowflake_grant_privileges_to_account_role.usage_on_stage
  id = "\"GROWTHLOOP\"|false|false|USAGE|OnSchemaObject|OnObject|STAGE|\"ANALYTICS\".\"FLYWHEEL_SYSTEM\".\"FLYWHEEL_EXTERNAL_STAGE\""
}

