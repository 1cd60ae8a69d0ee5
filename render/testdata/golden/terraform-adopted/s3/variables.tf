variable "region" {
  type        = string
  description = "AWS region of the bucket"
  default     = "eu-west-1"
}
