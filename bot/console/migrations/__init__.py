"""Alembic migrations of the console's database (run with ``python -m bot console migrate``)."""
