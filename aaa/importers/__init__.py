"""Bringing an ISP's base in: readers turn another system's data (FreeRADIUS SQL, ERP CSV
exports) into ``source`` records; ``apply`` writes them, idempotently and row by row."""
