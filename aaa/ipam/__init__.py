"""IP address management: folders, subnets, fixed and dynamic assignments, IPv6 delegation. A later issue."""
