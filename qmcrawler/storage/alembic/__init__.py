"""Alembic migrations (schema history from 0013 on; PostgreSQL's whole schema)."""
