"""Words and pure building blocks every layer shares: enums, fixed mappings, address arithmetic,
the audit declaration. Free of any database, settings or domain import."""
