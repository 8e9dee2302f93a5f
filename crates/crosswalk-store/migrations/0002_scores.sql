-- The evidence tier scores every candidate; mappings already had a confidence column.
ALTER TABLE candidates ADD COLUMN score REAL;
