"""The audit log (seeds: Histórico): who changed what, when, from where."""
