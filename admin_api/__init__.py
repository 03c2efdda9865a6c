"""The admin HTTP API (FastAPI): operators, audit log, customers, plans, services. Next issue."""
