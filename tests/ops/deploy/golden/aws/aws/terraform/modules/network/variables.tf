variable "name" {
  description = "Prefix of every resource's name"
  type        = string
}

variable "region" {
  description = "AWS region, for the S3 endpoint's service name"
  type        = string
}

variable "cidr_block" {
  description = "The VPC's address range"
  type        = string
}

variable "az_count" {
  description = "Availability zones to spread subnets over"
  type        = number
  default     = 2
}

variable "nat_gateway_count" {
  description = "NAT gateways: one per zone for HA, one to save cost"
  type        = number
  default     = 1
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
