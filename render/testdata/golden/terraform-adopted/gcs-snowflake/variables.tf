variable "project" {
  type        = string
  description = "Google Cloud project of the bucket"
  default     = "acme-data"
}
