variable "name" {
  description = "Prefix of every resource's name"
  type        = string
}

variable "vpc_id" {
  description = "The VPC of the network module"
  type        = string
}

variable "container_port" {
  description = "The port the service listens on"
  type        = number
  default     = 8000
}

variable "execution_role_policy_json" {
  description = "Policy of the task execution role (aws/policies/<env>/execution-role.json)"
  type        = string
}

variable "task_role_policy_json" {
  description = "Policy of the task role (aws/policies/<env>/task-role.json)"
  type        = string
}

variable "deploy_role_policy_json" {
  description = "Policy of the GitHub Actions deploy role (aws/policies/<env>/deploy-role.json)"
  type        = string
}

variable "github_repository" {
  description = "owner/name of the repository whose workflow may deploy"
  type        = string
}

variable "github_environment" {
  description = "The GitHub environment the deploy job runs in"
  type        = string
}

variable "github_oidc_provider_arn" {
  description = "An existing GitHub OIDC provider in the account; empty creates one"
  type        = string
  default     = ""
}

variable "ssm_prefix" {
  description = "Path of this environment's SSM parameters"
  type        = string
}

variable "secret_names" {
  description = "The service's secret variables, one SSM SecureString each"
  type        = list(string)
}

variable "enable_waf" {
  description = "Create the WAF web ACL"
  type        = bool
  default     = true
}

variable "waf_managed_rule_groups" {
  description = "AWS managed rule groups, in priority order"
  type        = list(string)
  default     = ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"]
}

variable "waf_rate_limit" {
  description = "Requests per 5 minutes from one address before it is blocked"
  type        = number
  default     = 2000
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
