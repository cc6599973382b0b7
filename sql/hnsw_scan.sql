-- hnsw scans: planner use, exact results on small data, every opclass, NULLs, zero vectors,
-- duplicates, UNLOGGED tables, REINDEX, CONCURRENTLY, on-disk build continuation
SET enable_seqscan = off;
CREATE TABLE items (id int PRIMARY KEY, v vector(4));
INSERT INTO items
SELECT i, ('[' || (i % 17) || ',' || (i % 13) || ',' || (i % 7) || ',' || (i % 5) || ']')::vector
FROM generate_series(1, 600) i;
INSERT INTO items VALUES (1001, NULL), (1002, '[0,0,0,0]');
CREATE INDEX items_l2 ON items USING hnsw (v vector_l2_ops);
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <-> '[1,2,3,4]' LIMIT 5;
-- without ORDER BY the index is not used
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE v = '[1,2,3,4]';
SET hnsw.ef_search = 200;
-- the index returns the same rows as an exact scan (distance ties broken by id in both)
CREATE FUNCTION knn_matches(q vector, op text, k int) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE a int[]; b float8[]; c float8[];
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
  EXECUTE format('SELECT array_agg(d ORDER BY n) FROM (SELECT row_number() OVER () n, d FROM (SELECT v %s $1 AS d FROM items ORDER BY v %s $1 LIMIT %s) s) s2', op, op, k) INTO b USING q;
  SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on;
  EXECUTE format('SELECT array_agg(d ORDER BY n) FROM (SELECT row_number() OVER () n, d FROM (SELECT v %s $1 AS d FROM items ORDER BY v %s $1 LIMIT %s) s) s2', op, op, k) INTO c USING q;
  RETURN b = c;
END $$;
SELECT knn_matches('[1,2,3,4]', '<->', 10), knn_matches('[16,12,6,4]', '<->', 20),
       knn_matches('[8,8,3,2]', '<->', 50);
-- NULL rows are not indexed; the zero vector is (l2)
SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> '[0,0,0,0]' LIMIT 1000) s;
SELECT id FROM items ORDER BY v <-> '[0,0,0,0]' LIMIT 1;
-- query dimension mismatch
SELECT id FROM items ORDER BY v <-> '[1,2,3]' LIMIT 1;
-- a NULL query returns rows (in no particular order)
SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> NULL LIMIT 3) s;
-- inner product, cosine (zero vector skipped), L1
CREATE INDEX items_ip ON items USING hnsw (v vector_ip_ops);
CREATE INDEX items_cos ON items USING hnsw (v vector_cosine_ops);
CREATE INDEX items_l1 ON items USING hnsw (v vector_l1_ops);
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <#> '[1,2,3,4]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <=> '[1,2,3,4]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <+> '[1,2,3,4]' LIMIT 5;
SELECT knn_matches('[1,2,3,4]', '<=>', 10), knn_matches('[1,2,3,4]', '<+>', 10);
-- inner product is not a metric: graph search is approximate even with a large ef
SELECT count(*) >= 8 AS ip_top10_mostly_found FROM
  (SELECT v <#> '[1,2,3,4]' d FROM items ORDER BY v <#> '[1,2,3,4]' LIMIT 10) s
  WHERE d <= (SELECT max(d) FROM (SELECT v <#> '[1,2,3,4]' d FROM items ORDER BY (v <#> '[1,2,3,4]') + 0 LIMIT 10) e);
SELECT count(*) FROM (SELECT id FROM items ORDER BY v <=> '[1,1,1,1]' LIMIT 1000) s;
SELECT elements, deleted, metric FROM piramid_hnsw_stats('items_cos');
SELECT elements, metric FROM piramid_hnsw_stats('items_l2');
-- all indexes verify clean
SELECT * FROM piramid_hnsw_verify('items_l2');
SELECT * FROM piramid_hnsw_verify('items_ip');
SELECT * FROM piramid_hnsw_verify('items_cos');
SELECT * FROM piramid_hnsw_verify('items_l1');
-- inserts after build are found
INSERT INTO items VALUES (2000, '[100,100,100,100]'), (2001, '[100,100,100,101]');
SELECT id FROM items ORDER BY v <-> '[100,100,100,100.2]' LIMIT 2;
-- a wrong-dimension insert fails and loses nothing
INSERT INTO items VALUES (2002, '[1,2,3]');
SELECT count(*) FROM items;
-- duplicates: many identical vectors all stay reachable
CREATE TABLE dups (id int, v vector(3));
INSERT INTO dups SELECT i, '[1,1,1]' FROM generate_series(1, 300) i;
INSERT INTO dups SELECT i, ('[' || i || ',' || (i * 7 % 11) || ',2]')::vector FROM generate_series(301, 500) i;
CREATE INDEX dups_idx ON dups USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 8);
INSERT INTO dups SELECT i, '[1,1,1]' FROM generate_series(501, 600) i;
SET hnsw.ef_search = 1000;
SELECT count(*) FROM (SELECT id FROM dups ORDER BY v <-> '[1,1,1]' LIMIT 400) s WHERE id <= 300 OR id > 500;
SELECT count(*) FROM (SELECT id FROM dups ORDER BY v <-> '[1,1,1]' LIMIT 1000) s;
SELECT * FROM piramid_hnsw_verify('dups_idx');
-- UNLOGGED tables (ambuildempty) and TRUNCATE
CREATE UNLOGGED TABLE ulog (id int, v vector(2));
CREATE INDEX ON ulog USING hnsw (v vector_l2_ops);
INSERT INTO ulog SELECT i, ('[' || i || ',' || -i || ']')::vector FROM generate_series(1, 50) i;
SELECT id FROM ulog ORDER BY v <-> '[10,-10]' LIMIT 3;
TRUNCATE ulog;
SELECT count(*) FROM (SELECT id FROM ulog ORDER BY v <-> '[10,-10]' LIMIT 3) s;
-- an empty table, then inserts
CREATE TABLE empty_t (v vector(2));
CREATE INDEX empty_idx ON empty_t USING hnsw (v vector_l2_ops);
SELECT * FROM empty_t ORDER BY v <-> '[1,1]' LIMIT 1;
INSERT INTO empty_t VALUES ('[1,1]'), ('[2,2]');
SELECT v FROM empty_t ORDER BY v <-> '[1.9,1.9]' LIMIT 1;
-- REINDEX and CREATE INDEX CONCURRENTLY
REINDEX INDEX items_l2;
SELECT knn_matches('[1,2,3,4]', '<->', 10);
DROP INDEX items_l2;
CREATE INDEX CONCURRENTLY items_l2c ON items USING hnsw (v vector_l2_ops);
SELECT knn_matches('[5,5,5,5]', '<->', 10);
SELECT * FROM piramid_hnsw_verify('items_l2c');
-- the engine-driven build (layer 0 from exact k-NN lists of the CPU engine here)
DROP INDEX items_l2c;
SET piramid.hnsw_build_method = engine;
CREATE INDEX items_engine ON items USING hnsw (v vector_l2_ops);
RESET piramid.hnsw_build_method;
SELECT knn_matches('[1,2,3,4]', '<->', 10), knn_matches('[16,12,6,4]', '<->', 20);
SELECT elements FROM piramid_hnsw_stats('items_engine');
SELECT * FROM piramid_hnsw_verify('items_engine');
SELECT last_engine LIKE 'cpu%' AS cpu_engine_used FROM piramid_gpu_info();
-- a build that outgrows maintenance_work_mem continues on disk, with a NOTICE
CREATE TABLE wide (id int, v vector(64));
INSERT INTO wide SELECT i, (SELECT ('[' || string_agg(((i * 64 + j * 7) % 100003)::text, ',') || ']') FROM generate_series(1, 64) j)::vector
FROM generate_series(1, 5000) i;
SET maintenance_work_mem = '1MB';
CREATE INDEX wide_idx ON wide USING hnsw (v vector_l2_ops);
RESET maintenance_work_mem;
SELECT elements FROM piramid_hnsw_stats('wide_idx');
SET enable_seqscan = off;
SELECT id FROM wide ORDER BY v <-> (SELECT v FROM wide WHERE id = 4321) LIMIT 1;
SELECT * FROM piramid_hnsw_verify('wide_idx');
DROP TABLE items, dups, ulog, empty_t, wide;
DROP FUNCTION knn_matches;
