variable "region" {
  type        = string
  description = "AWS region of the bucket"
  default     = "us-west-2"
}
