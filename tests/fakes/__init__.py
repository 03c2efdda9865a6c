"""Protocol-level stand-ins for peers that cannot run here (a MikroTik router)."""
