-- piramid 0.1.0 -> 0.2.0 (ALTER EXTENSION piramid UPDATE)
\echo Use "ALTER EXTENSION piramid UPDATE TO '0.2.0'" to load this file. \quit

-- 0.2.0 defines the same SQL objects as 0.1.0; what changed is in the library (every row
-- reachable under inner product, the CUDA plugin built by make) and in the install script's
-- check that "vector" (pgvector, or piramid's alias) is not installed in the same database,
-- which only matters at CREATE EXTENSION. Indexes keep on-disk format version 1: an index
-- built by 0.1.0 keeps working. sql/upgrade.sql compares the upgraded objects with a fresh
-- 0.2.0 install.
