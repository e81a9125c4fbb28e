include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../../modules//security"
}

dependency "network" {
  config_path = "../network"
  mock_outputs = {
    vpc_id = "vpc-00000000000000000"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

locals {
  policies = "${get_terragrunt_dir()}/../../../../policies/production"
}

inputs = {
  name                       = "miru"
  vpc_id                     = dependency.network.outputs.vpc_id
  container_port             = 8000
  execution_role_policy_json = templatefile("${local.policies}/execution-role.json", { account_id = get_aws_account_id() })
  task_role_policy_json      = templatefile("${local.policies}/task-role.json", { account_id = get_aws_account_id() })
  deploy_role_policy_json    = templatefile("${local.policies}/deploy-role.json", { account_id = get_aws_account_id() })
  github_repository          = "miru/app"
  github_environment         = "production"
  ssm_prefix                 = "/miru/production"
  secret_names               = ["DATABASE_URL", "REDIS_URL", "SECRET_KEY"]
  # seed 001: WAF in production only.
  enable_waf                 = true
}
