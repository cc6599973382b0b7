-- piramid_knn(): batched exact k-NN through the distance engines, compared with one exact
-- ORDER BY ... LIMIT per query; error cases; MVCC and privileges.
SET piramid.gpu = off;
CREATE TABLE knn_t (id int PRIMARY KEY, v vector(3));
-- small integer coordinates: every distance is exact in float, and there are many ties
INSERT INTO knn_t SELECT i, format('[%s,%s,%s]', i % 7, i % 5, (i * 3) % 11)::vector
  FROM generate_series(1, 500) i;
INSERT INTO knn_t VALUES (501, NULL), (502, '[0,0,0]');
CREATE TABLE knn_q (qno int, q vector(3));
INSERT INTO knn_q VALUES (1, '[1,2,3]'), (2, '[0,0,1]'), (3, '[6,4,10]'), (4, '[-1,3,0.5]');

-- The same rows and distances as ORDER BY distance, ctid LIMIT k, for each metric.
CREATE FUNCTION knn_diff(metric text, op text, k int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format($q$
    WITH r AS (
      SELECT query_no, row_ctid, distance
      FROM piramid_knn('knn_t', 'v', (SELECT array_agg(q ORDER BY qno) FROM knn_q), %s, %L)),
    e AS (
      SELECT qno AS query_no, x.ctid AS row_ctid, x.d AS distance
      FROM knn_q, LATERAL (SELECT t.ctid, t.v %s knn_q.q AS d FROM knn_t t
                           WHERE t.v IS NOT NULL
                           ORDER BY t.v %s knn_q.q, t.ctid LIMIT %s) x)
    SELECT count(*) FROM ((TABLE r EXCEPT ALL TABLE e) UNION ALL (TABLE e EXCEPT ALL TABLE r)) d
  $q$, k, metric, op, op, k) INTO n;
  RETURN n;
END $$;
SELECT m, op, k, knn_diff(m, op, k) AS differences
FROM (VALUES ('l2', '<->'), ('ip', '<#>'), ('l1', '<+>')) AS ms(m, op),
     (VALUES (1), (7), (50)) AS ks(k)
ORDER BY 1, 3;
-- cosine: the zero vector's distance is NaN and sorts last; compare away from it
DELETE FROM knn_t WHERE id = 502;
SELECT k, knn_diff('cosine', '<=>', k) AS differences FROM (VALUES (1), (7), (50)) AS ks(k);

-- a result joined back to the table
SELECT r.query_no, t.id, round(r.distance::numeric, 4) AS distance
FROM piramid_knn('knn_t', 'v', ARRAY['[1,2,3]', '[6,4,10]']::vector[], 3) r
JOIN knn_t t ON t.ctid = r.row_ctid
ORDER BY r.query_no, r.distance, t.id;
-- k larger than the table: every row once
SELECT count(*), count(DISTINCT row_ctid) FROM piramid_knn('knn_t', 'v', ARRAY['[1,1,1]']::vector[], 1024);

-- tiny work_mem, same answer
SET work_mem = 64;
SELECT knn_diff('l2', '<->', 50) AS differences_small_chunks;
RESET work_mem;

-- The per-query state (queries x min(k, rows) result slots) must fit in work_mem: the call
-- fails before allocating it instead of growing the backend.
CREATE TABLE knn_small (id int, v vector(3));
INSERT INTO knn_small SELECT i, format('[%s,%s,%s]', i % 7, i % 5, i % 3)::vector
  FROM generate_series(1, 300) i;
SET work_mem = 64;
-- 20,000 queries x 300 rows: about 94 MB, refused at 64 kB
SELECT count(*) FROM piramid_knn('knn_small', 'v',
  (SELECT array_agg(format('[%s,1,2]', i % 50)::vector) FROM generate_series(1, 20000) i), 1024);
-- k larger than the table needs only one slot per row: 10 queries x 300 slots fit
SELECT count(*), count(DISTINCT row_ctid) FROM piramid_knn('knn_small', 'v',
  (SELECT array_agg(format('[%s,1,2]', i)::vector) FROM generate_series(1, 10) i), 1024);
-- a table larger than one chunk of rows: the slots are bounded by k (and the heap's size)
CREATE TABLE knn_big (id int, v vector(3));
INSERT INTO knn_big SELECT i, format('[%s,%s,%s]', i % 101, i % 37, (i * 7) % 13)::vector
  FROM generate_series(1, 8000) i;
SELECT count(*) FROM piramid_knn('knn_big', 'v',
  (SELECT array_agg(format('[%s,1,2]', i)::vector) FROM generate_series(1, 4) i), 1024);
SELECT count(*) FROM piramid_knn('knn_big', 'v', ARRAY['[3,1,2]']::vector[], 1024);
-- several chunks give the exact answer
SELECT count(*) AS differences FROM (
  (SELECT row_ctid, distance FROM piramid_knn('knn_big', 'v', ARRAY['[50,18,6]']::vector[], 40)
   EXCEPT ALL
   (SELECT ctid, v <-> '[50,18,6]' FROM knn_big ORDER BY v <-> '[50,18,6]', ctid LIMIT 40))
  UNION ALL
  ((SELECT ctid, v <-> '[50,18,6]' FROM knn_big ORDER BY v <-> '[50,18,6]', ctid LIMIT 40)
   EXCEPT ALL
   SELECT row_ctid, distance FROM piramid_knn('knn_big', 'v', ARRAY['[50,18,6]']::vector[], 40))
) d;
RESET work_mem;
-- with the default work_mem the first call is still refused (it is not a matter of chunks)
SELECT count(*) FROM piramid_knn('knn_small', 'v',
  (SELECT array_agg(format('[%s,1,2]', i % 50)::vector) FROM generate_series(1, 20000) i), 1024);
DROP TABLE knn_small, knn_big;

-- MVCC: rows deleted or inserted by this transaction are seen as a query would see them
BEGIN;
DELETE FROM knn_t WHERE id <= 250;
INSERT INTO knn_t VALUES (1000, '[1,2,3]');
SELECT t.id, r.distance FROM piramid_knn('knn_t', 'v', ARRAY['[1,2,3]']::vector[], 1) r
JOIN knn_t t ON t.ctid = r.row_ctid;
SELECT count(*) FROM piramid_knn('knn_t', 'v', ARRAY['[1,2,3]']::vector[], 1024);
ROLLBACK;

-- errors
\set VERBOSITY sqlstate
SELECT * FROM piramid_knn('knn_t', 'v', ARRAY['[1,2,3]']::vector[], 5, 'hamming');
SELECT * FROM piramid_knn('knn_t', 'v', ARRAY['[1,2,3]']::vector[], 0);
SELECT * FROM piramid_knn('knn_t', 'v', ARRAY['[1,2,3]']::vector[], 1025);
SELECT * FROM piramid_knn('knn_t', 'id', ARRAY['[1,2,3]']::vector[], 5);
SELECT * FROM piramid_knn('knn_t', 'nope', ARRAY['[1,2,3]']::vector[], 5);
SELECT * FROM piramid_knn('knn_t', 'v', ARRAY['[1,2]']::vector[], 5);
SELECT * FROM piramid_knn('knn_t', 'v', ARRAY['[1,2,3]', '[1,2]']::vector[], 5);
SELECT * FROM piramid_knn('knn_t', 'v', ARRAY[]::vector[], 5);
SELECT * FROM piramid_knn('knn_t', 'v', NULL, 5);
SELECT * FROM piramid_knn('knn_t', 'v', ARRAY[NULL]::vector[], 5);
SELECT * FROM piramid_knn(NULL, 'v', ARRAY['[1,2,3]']::vector[], 5);
SELECT * FROM piramid_knn('knn_t', 'v', ARRAY['[1,2,3]']::vector[], 5, NULL);
CREATE VIEW knn_view AS SELECT * FROM knn_t;
SELECT * FROM piramid_knn('knn_view', 'v', ARRAY['[1,2,3]']::vector[], 5);
\set VERBOSITY default
SELECT * FROM piramid_knn('knn_t', 'v', ARRAY['[1,2,3]']::vector[], 5, 'hamming');
SELECT * FROM piramid_knn('knn_t', 'v', ARRAY['[1,2]']::vector[], 5);

-- privileges: SELECT on the table or on the column
CREATE ROLE knn_reader;
SET ROLE knn_reader;
\set VERBOSITY sqlstate
SELECT count(*) FROM piramid_knn('knn_t', 'v', ARRAY['[1,2,3]']::vector[], 5);
RESET ROLE;
GRANT SELECT (v) ON knn_t TO knn_reader;
SET ROLE knn_reader;
SELECT count(*) FROM piramid_knn('knn_t', 'v', ARRAY['[1,2,3]']::vector[], 5);
RESET ROLE;
-- row-level security would be bypassed by a heap scan: refused
ALTER TABLE knn_t ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON knn_t TO knn_reader;
SET ROLE knn_reader;
SELECT count(*) FROM piramid_knn('knn_t', 'v', ARRAY['[1,2,3]']::vector[], 5);
RESET ROLE;
\set VERBOSITY default
ALTER TABLE knn_t DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON knn_t FROM knn_reader;
DROP ROLE knn_reader;
SELECT last_engine LIKE 'cpu/%' AS used_cpu FROM piramid_gpu_info();
DROP VIEW knn_view;
DROP FUNCTION knn_diff(text, text, int);
DROP TABLE knn_t, knn_q;
