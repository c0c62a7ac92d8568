"""The sales pipeline warehouse's Python: publishing builds, the dashboard, the data generators."""
