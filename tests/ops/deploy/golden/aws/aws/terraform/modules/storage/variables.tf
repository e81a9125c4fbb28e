variable "bucket_name" {
  type = string
}

variable "bucket_policy_json" {
  description = "aws/policies/<env>/bucket-policy.json; $${distribution_arn} is filled in here"
  type        = string
}

variable "allowed_origins" {
  description = "Origins allowed to upload from a browser (CORS)"
  type        = list(string)
}

variable "session_files_days" {
  description = "Days after which sessions/ objects expire (the service's SESSION_FILES_LIFECYCLE_DAYS)"
  type        = number
}

variable "infrequent_access_after_days" {
  type    = number
  default = 30
}

variable "glacier_after_days" {
  type    = number
  default = 90
}

variable "abort_multipart_after_days" {
  type    = number
  default = 7
}

variable "versioning" {
  description = "Keep overwritten and deleted objects for 30 days"
  type        = bool
  default     = true
}

variable "enable_cdn" {
  type    = bool
  default = true
}

variable "alb_dns_name" {
  description = "Origin of the API behind CloudFront"
  type        = string
  default     = ""
}

variable "alb_origin_protocol_policy" {
  description = "https-only once the ALB has a certificate"
  type        = string
  default     = "http-only"
}

variable "tags" {
  type    = map(string)
  default = {}
}
