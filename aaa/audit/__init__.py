"""The audit log (Histórico): who changed what, when, from where."""
