-- hnsw and the planner (issue 7, item 3): the plan users expect is the one that returns the
-- LIMIT rows. A plain ORDER BY <distance> LIMIT k uses the index, at any dimension; a WHERE
-- clause that removes almost every row makes a sequential scan cheaper (the index's first
-- batch would hold too few matching rows) unless iterative scans can go on past it; a clause
-- that removes few rows keeps the index. Each plan is shown with the number of rows it returns.
CREATE SCHEMA hnsw_plan;
SET search_path = hnsw_plan, public;
SET jit = off;
SELECT setseed(0.125);
CREATE TABLE p3 (i int, c int, v vector(3));
INSERT INTO p3 SELECT i, i % 50, ARRAY(SELECT random()::real + i * 0 FROM generate_series(1, 3))::vector
FROM generate_series(1, 10000) i;
CREATE INDEX p3_idx ON p3 USING hnsw (v vector_l2_ops);
ANALYZE p3;
-- plain ORDER BY ... LIMIT: the index
EXPLAIN (COSTS OFF) SELECT i FROM p3 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 10;
SELECT count(*) FROM (SELECT i FROM p3 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 10) s;
EXPLAIN (COSTS OFF) SELECT i FROM p3 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 40;
SELECT count(*) FROM (SELECT i FROM p3 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 40) s;
-- a selective filter (c < 1 holds for 2% of the rows): an index scan's first batch of
-- ef_search = 40 rows would hold about one matching row; the sequential scan returns 20
EXPLAIN (COSTS OFF) SELECT i FROM p3 WHERE c < 1 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20;
SELECT count(*) FROM (SELECT i FROM p3 WHERE c < 1 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20) s;
-- the same with a generic plan (the query vector a parameter)
SET plan_cache_mode = force_generic_plan;
PREPARE sel(vector) AS SELECT i FROM p3 WHERE c < 1 ORDER BY v <-> $1 LIMIT 20;
EXPLAIN (COSTS OFF) EXECUTE sel('[0.5,0.5,0.5]');
CREATE TEMP TABLE got AS EXECUTE sel('[0.5,0.5,0.5]');
SELECT count(*) FROM got;
DEALLOCATE sel;
RESET plan_cache_mode;
-- with iterative scans either plan can return the LIMIT rows: whichever is chosen, it does
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT i FROM p3 WHERE c < 1 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20) s;
SET hnsw.iterative_scan = strict_order;
SELECT count(*) FROM (SELECT i FROM p3 WHERE c < 1 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20) s;
-- and where the index scan is used (forced here) it returns the LIMIT rows, all passing the filter
SET enable_seqscan = off;
SET hnsw.iterative_scan = relaxed_order;
EXPLAIN (COSTS OFF) SELECT i FROM p3 WHERE c < 1 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20;
SELECT count(*), bool_and(c < 1) FROM (SELECT i, c FROM p3 WHERE c < 1 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20) s;
RESET enable_seqscan;
RESET hnsw.iterative_scan;
-- a filter that removes few rows (c >= 1 holds for 98%): the index again
EXPLAIN (COSTS OFF) SELECT i FROM p3 WHERE c >= 1 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20;
SELECT count(*), bool_and(c >= 1) FROM (SELECT i, c FROM p3 WHERE c >= 1 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20) s;
DROP TABLE p3;
-- wide vectors: 2,000 rows of vector(384) and of vector(1536) (the latter in TOAST: a small
-- heap, a large index); a plain ORDER BY ... LIMIT 10 uses the index
CREATE TABLE p384 (i int, v vector(384));
INSERT INTO p384 SELECT i, ARRAY(SELECT random()::real + i * 0 FROM generate_series(1, 384))::vector
FROM generate_series(1, 2000) i;
CREATE INDEX p384_idx ON p384 USING hnsw (v vector_l2_ops);
ANALYZE p384;
-- the query vector is a parameter of a generic plan ($1, as an application sends it; a
-- literal of 384 numbers would fill the plan text)
SET plan_cache_mode = force_generic_plan;
PREPARE knn384(vector) AS SELECT i FROM p384 ORDER BY v <-> $1 LIMIT 10;
EXPLAIN (COSTS OFF) EXECUTE knn384(NULL);
SELECT v AS q384 FROM p384 WHERE i = 1 \gset
CREATE TEMP TABLE got384 AS EXECUTE knn384(:'q384');
SELECT count(*) FROM got384;
CREATE TABLE p1536 (i int, v vector(1536));
INSERT INTO p1536 SELECT i, ARRAY(SELECT random()::real + i * 0 FROM generate_series(1, 1536))::vector
FROM generate_series(1, 2000) i;
CREATE INDEX p1536_idx ON p1536 USING hnsw (v vector_l2_ops);
ANALYZE p1536;
PREPARE knn1536(vector) AS SELECT i FROM p1536 ORDER BY v <-> $1 LIMIT 10;
EXPLAIN (COSTS OFF) EXECUTE knn1536(NULL);
SELECT v AS q1536 FROM p1536 WHERE i = 1 \gset
CREATE TEMP TABLE got1536 AS EXECUTE knn1536(:'q1536');
SELECT count(*) FROM got1536;
DEALLOCATE knn384;
DEALLOCATE knn1536;
RESET plan_cache_mode;
RESET jit;
DROP SCHEMA hnsw_plan CASCADE;
