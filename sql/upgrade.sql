-- ALTER EXTENSION piramid UPDATE from 0.1.0 (through 0.2.0) and from 0.2.0 gives exactly the
-- objects of a fresh install, an index created while 0.1.0 was the installed version keeps
-- working (same on-disk format), and the objects new in 0.3.0 (halfvec, sparsevec, bit
-- distances, their hnsw opclasses) work after the upgrade.
\set regress_db :DBNAME
SELECT extversion FROM pg_extension WHERE extname = 'piramid';
SELECT string_agg(pg_describe_object(classid, objid, objsubid), E'\n' ORDER BY 1) AS fresh_objects
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'piramid') \gset
SELECT version FROM pg_available_extension_versions WHERE name = 'piramid' ORDER BY 1;

CREATE DATABASE piramid_upgrade_regress;
\c piramid_upgrade_regress
CREATE EXTENSION piramid VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'piramid';
CREATE TABLE items (id int PRIMARY KEY, v vector(3));
INSERT INTO items SELECT i, ('[' || (i % 7) || ',' || (i % 5) || ',' || (i % 3) || ']')::vector
  FROM generate_series(1, 300) i;
CREATE INDEX items_l2 ON items USING hnsw (v vector_l2_ops);

ALTER EXTENSION piramid UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'piramid';
SELECT string_agg(pg_describe_object(classid, objid, objsubid), E'\n' ORDER BY 1) = :'fresh_objects'
       AS same_objects_as_fresh
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'piramid');

-- the index built under 0.1.0: same answers as the exact scan, verifies clean, takes inserts
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <-> '[3,1,2]' LIMIT 5;
CREATE TEMP TABLE by_index AS SELECT id, v <-> '[3,1,2]' AS d FROM items ORDER BY v <-> '[3,1,2]' LIMIT 5;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT (SELECT array_agg(d ORDER BY d) FROM by_index) =
       (SELECT array_agg(d) FROM (SELECT v <-> '[3,1,2]' AS d FROM items ORDER BY 1 LIMIT 5) s)
       AS index_matches_exact;
RESET enable_indexscan;
INSERT INTO items VALUES (1000, '[9,9,9]');
SET enable_seqscan = off;
SELECT id FROM items ORDER BY v <-> '[9,9,8]' LIMIT 1;
RESET enable_seqscan;
SELECT count(*) AS problems FROM piramid_hnsw_verify('items_l2');
-- 0.3.0's objects after the upgrade: a halfvec index beside the old one, bit and sparsevec
CREATE INDEX items_half ON items USING hnsw ((v::halfvec(3)) halfvec_l2_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v::halfvec(3) <-> '[9,9,8]' LIMIT 1;
SELECT id FROM items ORDER BY v::halfvec(3) <-> '[9,9,8]' LIMIT 1;
RESET enable_seqscan;
SELECT B'1010' <~> B'0110' AS hamming, '{1:1,3:2}/3'::sparsevec <-> '{2:2}/3' AS sparse_l2;

\c :regress_db
DROP DATABASE piramid_upgrade_regress;

-- from 0.2.0
CREATE DATABASE piramid_upgrade_regress;
\c piramid_upgrade_regress
CREATE EXTENSION piramid VERSION '0.2.0';
ALTER EXTENSION piramid UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'piramid';
SELECT string_agg(pg_describe_object(classid, objid, objsubid), E'\n' ORDER BY 1) = :'fresh_objects'
       AS same_objects_as_fresh
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'piramid');

\c :regress_db
DROP DATABASE piramid_upgrade_regress;
