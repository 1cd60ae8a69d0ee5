-- byob's Snowflake statements, in the order byob init runs them.

-- create the integration (never CREATE OR REPLACE: that would mint a new identity and detach every stage)
CREATE STORAGE INTEGRATION IF NOT EXISTS "FLYWHEEL_APP_AWS"
  TYPE = EXTERNAL_STAGE
  STORAGE_PROVIDER = 'S3'
  ENABLED = TRUE
  STORAGE_AWS_ROLE_ARN = 'arn:aws:iam::111122223333:role/growthloop-byob-snowflake'
  STORAGE_AWS_EXTERNAL_ID = 'byob-abababababababababababababababababababab'
  STORAGE_ALLOWED_LOCATIONS = ('s3://acme-growthloop-exports/exports/');

-- read Snowflake's identity for the trust
DESC INTEGRATION "FLYWHEEL_APP_AWS";
-- Put its STORAGE_AWS_IAM_USER_ARN (S3) or STORAGE_GCP_SERVICE_ACCOUNT (GCS) in the role's trust or the bucket's binding.

-- grant
GRANT USAGE ON INTEGRATION "FLYWHEEL_APP_AWS" TO ROLE "GROWTHLOOP";

-- create the stage (database and schema must exist: byob does not create them)
CREATE STAGE IF NOT EXISTS "ANALYTICS"."FLYWHEEL_SYSTEM"."FLYWHEEL_EXTERNAL_STAGE"
  URL = 's3://acme-growthloop-exports/exports/1234/'
  STORAGE_INTEGRATION = "FLYWHEEL_APP_AWS";

-- grant
GRANT USAGE ON DATABASE "ANALYTICS" TO ROLE "GROWTHLOOP";

-- grant
GRANT USAGE ON SCHEMA "ANALYTICS"."FLYWHEEL_SYSTEM" TO ROLE "GROWTHLOOP";

-- grant
GRANT USAGE ON STAGE "ANALYTICS"."FLYWHEEL_SYSTEM"."FLYWHEEL_EXTERNAL_STAGE" TO ROLE "GROWTHLOOP";
