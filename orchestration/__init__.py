"""Dagster code location that refreshes the sales pipeline warehouse."""
