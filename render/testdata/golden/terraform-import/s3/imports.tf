import {
  to = aws_s3_bucket.exports
  id = "acme-growthloop-exports"
}

import {
  to = aws_s3_bucket_public_access_block.exports
  id = "acme-growthloop-exports"
}

import {
  to = aws_s3_bucket_server_side_encryption_configuration.exports
  id = "acme-growthloop-exports"
}

import {
  to = aws_s3_bucket_policy.exports
  id = "acme-growthloop-exports"
}

import {
  to = aws_s3_bucket_ownership_controls.exports
  id = "acme-growthloop-exports"
}

import {
  to = aws_s3_bucket_lifecycle_configuration.exports
  id = "acme-growthloop-exports"
}

import {
  to = aws_iam_policy.growthloop
  id = "arn:aws:iam::111122223333:policy/acme-byob-access"
}

import {
  to = aws_iam_user.growthloop
  id = "acme-byob-exporter"
}

import {
  to = aws_iam_user_policy_attachment.growthloop
  id = "acme-byob-exporter/arn:aws:iam::111122223333:policy/acme-byob-access"
}

import {
  to = aws_iam_access_key.growthloop
  id = "AKIAIOSFODNN7EXAMPLE"
}

