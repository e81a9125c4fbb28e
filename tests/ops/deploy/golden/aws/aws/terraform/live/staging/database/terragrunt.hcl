include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../../modules//database"
}

dependency "network" {
  config_path = "../network"
  mock_outputs = {
    private_subnet_ids = ["subnet-00000000000000003", "subnet-00000000000000004"]
    availability_zones = ["ap-northeast-1a", "ap-northeast-1c"]
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

dependency "security" {
  config_path = "../security"
  mock_outputs = {
    database_security_group_id = "sg-00000000000000003"
    cache_security_group_id    = "sg-00000000000000004"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

inputs = {
  name                       = "miru-staging"
  private_subnet_ids         = dependency.network.outputs.private_subnet_ids
  availability_zones         = dependency.network.outputs.availability_zones
  database_security_group_id = dependency.security.outputs.database_security_group_id
  cache_security_group_id    = dependency.security.outputs.cache_security_group_id
  # Aurora Serverless v2 (seed 002 §4), sized from plan.json, phase growth.
  min_acu                    = 0.5
  max_acu                    = 2
  instance_count             = 1
  backup_retention_days      = 1
  deletion_protection        = false
  cache_node_type            = "cache.t4g.micro"
  cache_nodes                = 1
  cache_snapshot_days        = 0
}
