include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../../modules//monitoring"
}

dependency "compute" {
  config_path = "../compute"
  mock_outputs = {
    alb_arn_suffix          = "app/mock/0000000000000000"
    target_group_arn_suffix = "targetgroup/mock/0000000000000000"
    cluster_name            = "mock"
    service_name            = "mock"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

dependency "database" {
  config_path = "../database"
  mock_outputs = {
    cluster_identifier   = "mock"
    replication_group_id = "mock"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

inputs = {
  name                    = "miru"
  alarm_email             = ""
  alb_arn_suffix          = dependency.compute.outputs.alb_arn_suffix
  target_group_arn_suffix = dependency.compute.outputs.target_group_arn_suffix
  cluster_name            = dependency.compute.outputs.cluster_name
  service_name            = dependency.compute.outputs.service_name
  db_cluster_identifier   = dependency.database.outputs.cluster_identifier
  max_acu                 = 4
  replication_group_id    = dependency.database.outputs.replication_group_id
}
