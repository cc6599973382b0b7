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

-- delete everything, VACUUM, insert the same rows again, three times, then half the rows: the
-- freed slots take the new elements (those of higher levels too), so the index keeps its size
-- (at most 1% of its pages and two more over all cycles: an element of a rare level may find no
-- slot of its size; before slot reuse chose tight fits first, each cycle added about 6%). 3-d
-- rows (small elements, about 37 a page) and 96-d rows.
CREATE TABLE cyc (id int, v vector(3), w vector(96));
CREATE TABLE cyc_rows AS SELECT i AS id, ARRAY[i % 317, i % 911, i % 53]::vector(3) AS v,
  (SELECT array_agg(sin(i * 0.11 + j)) FROM generate_series(1, 96) j)::vector(96) AS w
FROM generate_series(1, 6000) i;
INSERT INTO cyc SELECT * FROM cyc_rows;
CREATE INDEX cyc_v ON cyc USING hnsw (v vector_l2_ops);
CREATE INDEX cyc_w ON cyc USING hnsw (w vector_cosine_ops);
CREATE TABLE cyc_size AS SELECT pg_relation_size('cyc_v') AS v0, pg_relation_size('cyc_w') AS w0;
DELETE FROM cyc;
VACUUM cyc;
INSERT INTO cyc SELECT * FROM cyc_rows;
DELETE FROM cyc;
VACUUM cyc;
INSERT INTO cyc SELECT * FROM cyc_rows;
DELETE FROM cyc;
VACUUM cyc;
INSERT INTO cyc SELECT * FROM cyc_rows;
DELETE FROM cyc WHERE id % 2 = 0;
VACUUM cyc;
INSERT INTO cyc SELECT * FROM cyc_rows WHERE id % 2 = 0;
SELECT pg_relation_size('cyc_v') <= v0 * 1.01 + 2 * 8192 AS v_keeps_size,
       pg_relation_size('cyc_w') <= w0 * 1.01 + 2 * 8192 AS w_keeps_size FROM cyc_size;
SELECT elements, deleted FROM piramid_hnsw_stats('cyc_v');
SELECT elements, deleted FROM piramid_hnsw_stats('cyc_w');
SELECT * FROM piramid_hnsw_verify('cyc_v');
SELECT * FROM piramid_hnsw_verify('cyc_w');
DROP TABLE cyc, cyc_rows, cyc_size;
