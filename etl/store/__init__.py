"""PostgreSQL: the schema (declared once, in schema.py), the engine and migrations, the cost loader
and readers, the run log, per-account locks and backfill resume. Never imports etl.source."""
