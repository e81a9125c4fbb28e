include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../../modules//compute"
}

dependency "network" {
  config_path = "../network"
  mock_outputs = {
    vpc_id             = "vpc-00000000000000000"
    public_subnet_ids  = ["subnet-00000000000000001", "subnet-00000000000000002"]
    private_subnet_ids = ["subnet-00000000000000003", "subnet-00000000000000004"]
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

dependency "security" {
  config_path = "../security"
  mock_outputs = {
    alb_security_group_id = "sg-00000000000000001"
    app_security_group_id = "sg-00000000000000002"
    execution_role_arn    = "arn:aws:iam::123456789012:role/mock"
    task_role_arn         = "arn:aws:iam::123456789012:role/mock"
    web_acl_arn           = ""
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

locals {
  # One task definition for Terraform and CI: aws/ecs/staging/task-definition.json.
  task = jsondecode(templatefile("${get_terragrunt_dir()}/../../../../ecs/staging/task-definition.json", { account_id = get_aws_account_id() }))
}

inputs = {
  name                       = "miru-staging"
  vpc_id                     = dependency.network.outputs.vpc_id
  public_subnet_ids          = dependency.network.outputs.public_subnet_ids
  private_subnet_ids         = dependency.network.outputs.private_subnet_ids
  alb_security_group_id      = dependency.security.outputs.alb_security_group_id
  app_security_group_id      = dependency.security.outputs.app_security_group_id
  execution_role_arn         = dependency.security.outputs.execution_role_arn
  task_role_arn              = dependency.security.outputs.task_role_arn
  enable_waf                 = false
  web_acl_arn                = dependency.security.outputs.web_acl_arn
  ecr_repository             = "miru"
  container_definitions_json = jsonencode(local.task.containerDefinitions)
  task_cpu                   = local.task.cpu
  task_memory                = local.task.memory
  container_port             = 8000
  # From plan.json, phase growth.
  min_tasks                  = 1
  max_tasks                  = 2
  target_cpu_percent         = 60
  # WebSockets (/api/v1/ws): idle sockets stay open between pings; reconnects stick to a task.
  idle_timeout_seconds         = 3600
  sticky_sessions              = true
  deregistration_delay_seconds = 60
  certificate_arn            = ""
  log_retention_days         = 7
  container_insights         = false
  deletion_protection        = false
}
