"""Operators (Usuários do sistema), their roles, permissions, cities and tokens."""
