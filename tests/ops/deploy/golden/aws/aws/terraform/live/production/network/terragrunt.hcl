include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../../modules//network"
}

inputs = {
  name              = "miru"
  region            = "ap-northeast-1"
  cidr_block        = "10.20.0.0/16"
  az_count          = 2
  # One NAT gateway per zone when the plan asks for high availability; one otherwise (seed 001: cost).
  nat_gateway_count = 1
}
