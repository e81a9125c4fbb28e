include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../../modules//storage"
}

inputs = {
  bucket_name        = "miru-staging-files"
  bucket_policy_json = file("${get_terragrunt_dir()}/../../../../policies/staging/bucket-policy.json")
  allowed_origins    = ["https://miru.example.jp"]
  # The service removes session files after the same number of days (SESSION_FILES_LIFECYCLE_DAYS).
  session_files_days           = 7
  infrequent_access_after_days = 30
  glacier_after_days           = 90
  abort_multipart_after_days   = 7
  versioning                   = false
  # seed 001: CloudFront in production only.
  enable_cdn                   = false
}
