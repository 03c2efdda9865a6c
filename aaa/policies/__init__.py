"""Pure decision logic: what a subscriber gets (no database, Redis or pyrad imports here)."""
