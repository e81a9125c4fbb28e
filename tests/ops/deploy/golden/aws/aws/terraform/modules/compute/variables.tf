variable "name" {
  description = "Cluster, service, task family, load balancer and log group name"
  type        = string
}

variable "vpc_id" {
  type = string
}

variable "public_subnet_ids" {
  description = "Subnets of the load balancer"
  type        = list(string)
}

variable "private_subnet_ids" {
  description = "Subnets of the tasks"
  type        = list(string)
}

variable "alb_security_group_id" {
  type = string
}

variable "app_security_group_id" {
  type = string
}

variable "execution_role_arn" {
  type = string
}

variable "task_role_arn" {
  type = string
}

variable "ecr_repository" {
  description = "Name of the image repository"
  type        = string
}

variable "container_definitions_json" {
  description = "containerDefinitions of aws/ecs/<env>/task-definition.json"
  type        = string
}

variable "task_cpu" {
  description = "Fargate CPU units of one task"
  type        = string
}

variable "task_memory" {
  description = "Fargate memory (MiB) of one task"
  type        = string
}

variable "container_port" {
  type    = number
  default = 8000
}

variable "min_tasks" {
  description = "Tasks kept running (and the autoscaling floor)"
  type        = number
}

variable "max_tasks" {
  description = "Autoscaling ceiling"
  type        = number
}

variable "target_cpu_percent" {
  description = "Average CPU the autoscaling keeps the service at"
  type        = number
  default     = 60
}

variable "idle_timeout_seconds" {
  description = "ALB idle timeout; long enough for idle WebSockets between pings"
  type        = number
  default     = 60
}

variable "sticky_sessions" {
  description = "Load balancer cookie stickiness (WebSocket reconnects)"
  type        = bool
  default     = false
}

variable "deregistration_delay_seconds" {
  description = "How long a stopping task keeps its connections"
  type        = number
  default     = 30
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS on the load balancer; empty serves HTTP only"
  type        = string
  default     = ""
}

variable "enable_waf" {
  type    = bool
  default = false
}

variable "web_acl_arn" {
  type    = string
  default = ""
}

variable "log_retention_days" {
  type    = number
  default = 30
}

variable "container_insights" {
  type    = bool
  default = false
}

variable "deletion_protection" {
  type    = bool
  default = false
}

variable "tags" {
  type    = map(string)
  default = {}
}
