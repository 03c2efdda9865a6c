"""Accounting sessions, the stale-session reaper, connection history and the auth log."""
