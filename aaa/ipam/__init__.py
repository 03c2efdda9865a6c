"""IP address management: folders, subnets, pools, fixed and dynamic assignments, IPv6 delegation."""
