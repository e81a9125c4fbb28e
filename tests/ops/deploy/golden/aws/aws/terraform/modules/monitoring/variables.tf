variable "name" {
  type = string
}

variable "alarm_email" {
  description = "Where alarms are mailed; empty subscribes nobody (add your own to the topic)"
  type        = string
  default     = ""
}

variable "alb_arn_suffix" {
  type = string
}

variable "target_group_arn_suffix" {
  type = string
}

variable "cluster_name" {
  type = string
}

variable "service_name" {
  type = string
}

variable "db_cluster_identifier" {
  type = string
}

variable "max_acu" {
  description = "The database's ACU ceiling, to alarm near it"
  type        = number
}

variable "replication_group_id" {
  type = string
}

variable "tags" {
  type    = map(string)
  default = {}
}
