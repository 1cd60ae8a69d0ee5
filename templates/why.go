package templates

// Why explains each permission byob grants, for the plan and the README.
var Why = map[string]string{
	"s3:PutObject":           "writes export files under the prefix",
	"s3:GetObject":           "the export service reads the files back to send them on",
	"s3:GetObjectVersion":    "reads a specific version when the bucket is versioned",
	"s3:ListBucket":          "lists the files of an export, only under the prefix",
	"s3:GetBucketLocation":   "finds the bucket's region before the first request",
	"s3:DeleteObject":        "Snowflake's unload replaces files it wrote (OVERWRITE = TRUE) and REMOVE or PURGE delete them, only under the prefix",
	"s3:DeleteObjectVersion": "the same in a versioned bucket",
	"sts:AssumeRole":         "Snowflake's IAM user assumes the role, only with the integration's external ID",
	"storage.buckets.get":    "reads bucket metadata (location) before the first request",
	"storage.objects.create": "writes export files",
	"storage.objects.get":    "reads the files back to send them on",
	"storage.objects.list":   "lists the files of an export",
	"storage.objects.delete": "Snowflake's unload overwrites (deletes) files it wrote before",
}
