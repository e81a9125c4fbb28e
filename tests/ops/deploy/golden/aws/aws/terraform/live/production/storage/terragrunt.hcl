include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../../modules//storage"
}

dependency "compute" {
  config_path = "../compute"
  mock_outputs = {
    alb_dns_name = "mock.ap-northeast-1.elb.amazonaws.com"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

inputs = {
  bucket_name        = "miru-files"
  bucket_policy_json = file("${get_terragrunt_dir()}/../../../../policies/production/bucket-policy.json")
  allowed_origins    = ["https://miru.example.jp"]
  # The service removes session files after the same number of days (SESSION_FILES_LIFECYCLE_DAYS).
  session_files_days           = 7
  infrequent_access_after_days = 30
  glacier_after_days           = 90
  abort_multipart_after_days   = 7
  versioning                   = true
  # seed 001: CloudFront in production only.
  enable_cdn                   = true
  alb_dns_name                 = dependency.compute.outputs.alb_dns_name
}
