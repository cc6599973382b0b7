-- hnsw VACUUM: dead TIDs removed, lists repaired, space reused; iterative scans with filters
CREATE TABLE vt (id int PRIMARY KEY, cat int, v vector(3)) WITH (autovacuum_enabled = off);
INSERT INTO vt SELECT i, i % 10, ('[' || (i % 23) || ',' || (i % 19) || ',' || (i % 11) || ']')::vector
FROM generate_series(1, 2000) i;
CREATE INDEX vt_idx ON vt USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
SELECT elements, deleted, free_slots FROM piramid_hnsw_stats('vt_idx');
DELETE FROM vt WHERE id % 4 <> 0;
VACUUM vt;
SELECT elements, deleted, free_slots > 0 AS has_free_slots FROM piramid_hnsw_stats('vt_idx');
SELECT * FROM piramid_hnsw_verify('vt_idx');
SET enable_seqscan = off;
SET hnsw.ef_search = 400;
-- after vacuum the survivors are still found exactly
SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM vt ORDER BY v <-> '[4,4,4]' LIMIT 5) s;
SET enable_indexscan = off;
SET enable_seqscan = on;
SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM vt ORDER BY v <-> '[4,4,4]' LIMIT 5) s;
RESET enable_indexscan;
SET enable_seqscan = off;
-- new rows reuse freed slots: most inserts land in them
SELECT pages AS pages_before, free_slots AS free_before FROM piramid_hnsw_stats('vt_idx') \gset
INSERT INTO vt SELECT i, i % 10, ('[' || (i % 23) || ',' || (i % 19) || ',' || (i % 11) || ']')::vector
FROM generate_series(5001, 5500) i;
SELECT :free_before - free_slots >= 300 AS slots_reused, pages <= :pages_before + 3 AS little_growth
FROM piramid_hnsw_stats('vt_idx');
SELECT * FROM piramid_hnsw_verify('vt_idx');
-- filtered queries: without iterative scans few rows survive the filter
SET hnsw.ef_search = 10;
SELECT count(*) FROM (SELECT id FROM vt WHERE cat = 3 ORDER BY v <-> '[4,4,4]' LIMIT 10) s;
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM vt WHERE cat = 3 ORDER BY v <-> '[4,4,4]' LIMIT 10) s;
SET hnsw.iterative_scan = strict_order;
SELECT count(*) FROM (SELECT id FROM vt WHERE cat = 3 ORDER BY v <-> '[4,4,4]' LIMIT 10) s;
-- strict order returns rows in distance order
SELECT bool_and(d >= prev) FROM (
  SELECT d, lag(d, 1, 0::float8) OVER () prev FROM (
    SELECT v <-> '[4,4,4]' d FROM vt WHERE cat = 3 ORDER BY v <-> '[4,4,4]' LIMIT 30) s) s2;
-- max_scan_tuples bounds the work
SET hnsw.max_scan_tuples = 20;
SELECT count(*) <= 20 FROM (SELECT id FROM vt WHERE cat = 3 ORDER BY v <-> '[4,4,4]' LIMIT 100) s;
RESET ALL;
-- everything deleted: the graph empties and refills
DELETE FROM vt;
VACUUM vt;
SELECT elements - deleted AS live FROM piramid_hnsw_stats('vt_idx');
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM vt ORDER BY v <-> '[1,1,1]' LIMIT 5) s;
INSERT INTO vt VALUES (1, 1, '[1,1,1]'), (2, 2, '[2,2,2]');
SELECT id FROM vt ORDER BY v <-> '[1,1,1]' LIMIT 2;
SELECT * FROM piramid_hnsw_verify('vt_idx');
DROP TABLE vt;
