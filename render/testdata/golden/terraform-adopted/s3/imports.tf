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

