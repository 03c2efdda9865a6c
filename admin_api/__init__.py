"""The admin HTTP API (FastAPI): operators, audit log, customers, plans, services, IPAM, billing."""
