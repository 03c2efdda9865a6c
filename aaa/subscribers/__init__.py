"""Customers, plans and services (the PPPoE subscriptions)."""
