"""Database: declarative base, column types, engine and session factory."""
