import {
  to = aws_iam_policy.growthloop
  id = "arn:aws:iam::111122223333:policy/growthloop-byob-access"
}

import {
  to = aws_iam_policy.snowflake
  id = "arn:aws:iam::111122223333:policy/growthloop-byob-snowflake-access"
}

import {
  to = aws_iam_role.snowflake
  id = "growthloop-byob-snowflake"
}

import {
  to = aws_iam_role_policy_attachment.snowflake
  id = "growthloop-byob-snowflake/arn:aws:iam::111122223333:policy/growthloop-byob-snowflake-access"
}

import {
  to = aws_iam_user.growthloop
  id = "growthloop-byob-exporter"
}

import {
  to = aws_iam_user_policy_attachment.growthloop
  id = "growthloop-byob-exporter/arn:aws:iam::111122223333:policy/growthloop-byob-access"
}

import {
  to = aws_iam_access_key.growthloop
  id = "AKIAIOSFODNN7EXAMPLE"
}

import {
  to = snowflake_storage_integration.this
  id = "FLYWHEEL_APP_AWS"
}

import {
  to = snowflake_stage.exports
  id = "ANALYTICS|FLYWHEEL_SYSTEM|FLYWHEEL_EXTERNAL_STAGE"
}

import {
  to = snowflake_grant_privileges_to_account_role.usage_on_integration
  id = "\"GROWTHLOOP\"|false|false|USAGE|OnAccountObject|INTEGRATION|\"FLYWHEEL_APP_AWS\""
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

