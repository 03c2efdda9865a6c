"""Thin routes: translate HTTP to service calls and ORM rows to schemas, nothing else."""
