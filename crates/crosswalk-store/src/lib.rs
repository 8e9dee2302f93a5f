//! Crosswalk's durable store: directories, jobs, mappings, evidence and candidates in SQLite (sqlx, migrations).
