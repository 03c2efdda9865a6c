"""Live enforcement: the outbox, CoA/Disconnect, the RouterOS API, the enforcer and the reconciler."""
