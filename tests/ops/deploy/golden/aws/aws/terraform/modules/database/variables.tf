variable "name" {
  type = string
}

variable "private_subnet_ids" {
  type = list(string)
}

variable "availability_zones" {
  description = "Zones to spread Aurora instances over"
  type        = list(string)
}

variable "database_security_group_id" {
  type = string
}

variable "cache_security_group_id" {
  type = string
}

variable "engine_version" {
  description = "Aurora PostgreSQL version (seed 002: 15.3 or later)"
  type        = string
  default     = "16.4"
}

variable "database_name" {
  type    = string
  default = "app"
}

variable "master_username" {
  type    = string
  default = "app_admin"
}

variable "min_acu" {
  description = "Aurora Serverless v2 floor, in ACUs"
  type        = number
}

variable "max_acu" {
  description = "Aurora Serverless v2 ceiling, in ACUs"
  type        = number
}

variable "instance_count" {
  description = "Writer plus readers; 2 or more is Multi-AZ"
  type        = number
}

variable "backup_retention_days" {
  type = number
}

variable "deletion_protection" {
  type    = bool
  default = true
}

variable "cache_node_type" {
  type = string
}

variable "cache_nodes" {
  description = "Primary plus replicas; 2 or more enables automatic failover"
  type        = number
}

variable "cache_snapshot_days" {
  type    = number
  default = 0
}

variable "tags" {
  type    = map(string)
  default = {}
}
