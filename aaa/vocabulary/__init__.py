"""Words every layer shares: enums and fixed mappings, free of any database or settings import."""
