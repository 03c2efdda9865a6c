"""The node: the supervisor that runs RADIUS workers, the API and the enforcer as processes,
the scheduled jobs, and the node's health and metrics endpoint."""
