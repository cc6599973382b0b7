-- hnsw over sparsevec: every opclass, index answer = exact answer (distances in order, ties
-- broken alike) over seeded random rows, bulk-built and row by row; nasty data (empty vectors,
-- one dimension, a billion dimensions, duplicates, one-hot rows, tiny and huge values, 1,000
-- non-zeros); queries longer than any element; query shapes; VACUUM and verify; the errors.
SET enable_seqscan = off;
SET hnsw.ef_search = 1000;
SELECT setseed(0.25);
-- k distinct random indices of 1..d (sorted), values from a few steps (ties and duplicates)
CREATE FUNCTION rsv(d int, k int, steps int) RETURNS sparsevec LANGUAGE sql VOLATILE AS $$
  SELECT (COALESCE('{' || string_agg(i || ':' || (1 + floor(random() * steps)) * 0.5, ','
                                     ORDER BY i) || '}', '{}') || '/' || d)::sparsevec
  FROM (SELECT DISTINCT 1 + floor(random() * d)::int AS i FROM generate_series(1, k)) s $$;

CREATE FUNCTION knn_same(tbl text, op text, q text, k int) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE a float8[]; b float8[];
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
  EXECUTE format('SELECT array_agg(d ORDER BY n) FROM (SELECT row_number() OVER () n, d FROM '
                 '(SELECT v %s %s AS d FROM %s ORDER BY v %s %s LIMIT %s) s) s2',
                 op, q, tbl, op, q, k) INTO a;
  SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on;
  EXECUTE format('SELECT array_agg(d ORDER BY n) FROM (SELECT row_number() OVER () n, d FROM '
                 '(SELECT v %s %s AS d FROM %s ORDER BY v %s %s LIMIT %s) s) s2',
                 op, q, tbl, op, q, k) INTO b;
  IF a IS DISTINCT FROM b THEN RAISE NOTICE 'index % exact %', a, b; END IF;
  RETURN a IS NOT DISTINCT FROM b;
END $$;

-- bulk-built: 600 rows of up to 12 non-zeros in 300 dimensions, NULLs and empty vectors
CREATE TABLE s (id int PRIMARY KEY, v sparsevec(300));
INSERT INTO s SELECT i, rsv(300, 1 + i % 12, 4) FROM generate_series(1, 600) i;
INSERT INTO s VALUES (1001, NULL), (1002, '{}/300'), (1003, '{7:1}/300'), (1004, '{7:1}/300');
CREATE INDEX s_l2 ON s USING hnsw (v sparsevec_l2_ops);
CREATE INDEX s_ip ON s USING hnsw (v sparsevec_ip_ops);
CREATE INDEX s_cos ON s USING hnsw (v sparsevec_cosine_ops);
CREATE INDEX s_l1 ON s USING hnsw (v sparsevec_l1_ops);
EXPLAIN (COSTS OFF) SELECT id FROM s ORDER BY v <-> '{1:1}/300' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM s ORDER BY v <#> '{1:1}/300' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM s ORDER BY v <=> '{1:1}/300' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM s ORDER BY v <+> '{1:1}/300' LIMIT 5;
CREATE TABLE queries (qid int, q sparsevec(300));
INSERT INTO queries SELECT i, rsv(300, 1 + i * 7, 4) FROM generate_series(1, 6) i;
INSERT INTO queries VALUES (7, '{}/300'), (8, '{7:1}/300'), (9, '{300:2}/300');
SELECT op, count(*) FILTER (WHERE knn_same('s', op, quote_literal(q::text) || '::sparsevec', 10)) AS k10,
       count(*) FILTER (WHERE knn_same('s', op, quote_literal(q::text) || '::sparsevec', 60)) AS k60,
       count(*) AS queries
  FROM unnest(ARRAY['<->', '<#>', '<=>', '<+>']) op, queries GROUP BY op ORDER BY op;

-- row by row: the same rows inserted into empty indexes
CREATE TABLE r (id int PRIMARY KEY, v sparsevec(300));
CREATE INDEX r_l2 ON r USING hnsw (v sparsevec_l2_ops);
CREATE INDEX r_ip ON r USING hnsw (v sparsevec_ip_ops);
CREATE INDEX r_cos ON r USING hnsw (v sparsevec_cosine_ops);
CREATE INDEX r_l1 ON r USING hnsw (v sparsevec_l1_ops) WITH (m = 4);
INSERT INTO r SELECT id, v FROM s;
SELECT op, count(*) FILTER (WHERE knn_same('r', op, quote_literal(q::text) || '::sparsevec', 10)) AS k10,
       count(*) FILTER (WHERE knn_same('r', op, quote_literal(q::text) || '::sparsevec', 60)) AS k60,
       count(*) AS queries
  FROM unnest(ARRAY['<->', '<#>', '<=>', '<+>']) op, queries GROUP BY op ORDER BY op;
-- every indexed row is reachable: a full scan returns all of them (cosine skips the empty vector)
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM r ORDER BY v <-> '{1:1}/300' LIMIT 2000) x;
SELECT count(*) FROM (SELECT id FROM r ORDER BY v <#> '{1:1}/300' LIMIT 2000) x;
SELECT count(*) FROM (SELECT id FROM r ORDER BY v <=> '{1:1}/300' LIMIT 2000) x;
SELECT count(*) FROM (SELECT id FROM r ORDER BY v <+> '{1:1}/300' LIMIT 2000) x;
RESET hnsw.iterative_scan;
SELECT id FROM r ORDER BY v <-> '{7:1}/300', id LIMIT 2;

-- deletes, inserts, VACUUM; then the answers and the verifier
DELETE FROM r WHERE id % 3 = 0;
INSERT INTO r SELECT 2000 + i, rsv(300, 1 + i % 9, 3) FROM generate_series(1, 200) i;
VACUUM r;
SELECT op, count(*) FILTER (WHERE knn_same('r', op, quote_literal(q::text) || '::sparsevec', 20)) AS k20
  FROM unnest(ARRAY['<->', '<#>', '<=>', '<+>']) op, queries GROUP BY op ORDER BY op;
SELECT idx, count(*) AS problems
  FROM unnest(ARRAY['s_l2', 's_ip', 's_cos', 's_l1', 'r_l2', 'r_ip', 'r_cos', 'r_l1']) idx,
       LATERAL piramid_hnsw_verify(idx::regclass) GROUP BY idx ORDER BY idx;
SELECT dims, metric FROM piramid_hnsw_stats('s_l2');
SELECT dims, metric FROM piramid_hnsw_stats('r_cos');

-- query shapes: two index scans in one query, a prepared generic plan, a cursor
SET enable_indexscan = off;
SET enable_seqscan = on;
CREATE TEMP TABLE exact3 AS
  SELECT qid, (SELECT array_agg(d) FROM (SELECT v <-> q AS d FROM s ORDER BY v <-> q LIMIT 3) x) AS l2,
         (SELECT array_agg(d) FROM (SELECT v <=> q AS d FROM s ORDER BY v <=> q LIMIT 3) x) AS cos
  FROM queries;
RESET enable_indexscan;
SET enable_seqscan = off;
SELECT a.qid, (SELECT array_agg(d) FROM (SELECT v <-> a.q AS d FROM s ORDER BY v <-> a.q LIMIT 3) x) = e.l2
          AND (SELECT array_agg(d) FROM (SELECT v <=> a.q AS d FROM s ORDER BY v <=> a.q LIMIT 3) y) = e.cos
          AND (SELECT array_agg(d) FROM (SELECT v <-> a.q AS d FROM s ORDER BY v <-> a.q LIMIT 3) z) = e.l2
          AS same
  FROM queries a JOIN exact3 e USING (qid) ORDER BY a.qid;
SELECT count(*) FROM (SELECT id FROM s ORDER BY v <-> '{1:1}/300' LIMIT 3) a
  UNION ALL SELECT count(*) FROM (SELECT id FROM s ORDER BY v <#> '{1:1}/300' LIMIT 4) b;
SELECT count(*) FROM queries a,
       LATERAL (SELECT id FROM s ORDER BY v <+> a.q LIMIT 4) x;
SET plan_cache_mode = force_generic_plan;
PREPARE near(sparsevec, int) AS SELECT v <-> $1 AS d FROM s ORDER BY v <-> $1 LIMIT $2;
EXPLAIN (COSTS OFF) EXECUTE near('{1:1}/300', 3);
SELECT count(*) FROM queries, LATERAL (SELECT 1 FROM s ORDER BY v <-> q LIMIT 5) x;
EXECUTE near('{1:0.5,2:1.5}/300', 3) \g /dev/null
DEALLOCATE near;
RESET plan_cache_mode;
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM s ORDER BY v <=> '{2:1,3:1}/300';
FETCH 3 FROM c \g /dev/null
MOVE FORWARD 10 IN c;
FETCH 2 FROM c \g /dev/null
CLOSE c;
COMMIT;

-- nasty data: one dimension
CREATE TABLE one (id int, v sparsevec(1));
INSERT INTO one SELECT i, CASE i % 4 WHEN 0 THEN '{}/1' WHEN 1 THEN '{1:1}/1'
                                     WHEN 2 THEN '{1:-2}/1' ELSE '{1:0.5}/1' END::sparsevec
  FROM generate_series(1, 200) i;
CREATE INDEX ON one USING hnsw (v sparsevec_l2_ops);
CREATE INDEX ON one USING hnsw (v sparsevec_ip_ops);
CREATE INDEX ON one USING hnsw (v sparsevec_cosine_ops);
CREATE INDEX ON one USING hnsw (v sparsevec_l1_ops);
SELECT op, knn_same('one', op, '''{1:3}/1''::sparsevec', 120) AS k120,
       knn_same('one', op, '''{}/1''::sparsevec', 30) AS k30
  FROM unnest(ARRAY['<->', '<#>', '<=>', '<+>']) op;
-- a billion dimensions, indices near the top; one-hot rows (orthogonal to each other)
CREATE TABLE big (id int, v sparsevec(1000000000));
INSERT INTO big SELECT i, ('{' || (1000000000 - i) || ':1}/1000000000')::sparsevec
  FROM generate_series(1, 150) i;
INSERT INTO big SELECT 1000 + i, ('{' || (1000000000 - i) || ':2,1000000000:' || i
                                  || '}/1000000000')::sparsevec FROM generate_series(1, 50) i;
CREATE INDEX ON big USING hnsw (v sparsevec_l2_ops);
CREATE INDEX ON big USING hnsw (v sparsevec_ip_ops);
CREATE INDEX ON big USING hnsw (v sparsevec_cosine_ops);
CREATE INDEX ON big USING hnsw (v sparsevec_l1_ops);
SELECT op, knn_same('big', op, '''{999999990:1,1000000000:3}/1000000000''::sparsevec', 40) AS k40
  FROM unnest(ARRAY['<->', '<#>', '<=>', '<+>']) op;
-- duplicates: 300 copies of one vector among others
CREATE TABLE dup (id int, v sparsevec(50));
INSERT INTO dup SELECT i, '{3:1,9:2}/50' FROM generate_series(1, 300) i;
INSERT INTO dup SELECT 1000 + i, rsv(50, 3, 2) FROM generate_series(1, 100) i;
CREATE INDEX dup_l2 ON dup USING hnsw (v sparsevec_l2_ops);
INSERT INTO dup SELECT 2000 + i, '{3:1,9:2}/50' FROM generate_series(1, 50) i;
SELECT count(*) FROM (SELECT id FROM dup ORDER BY v <-> '{3:1,9:2}/50' LIMIT 400) x
  WHERE id < 1000 OR id > 2000;
SELECT knn_same('dup', '<->', '''{3:1,9:2.5}/50''::sparsevec', 200);
-- tiny values (every squared distance underflows to 0: all ties) and huge positive ones
CREATE TABLE mag (id int, v sparsevec(20));
INSERT INTO mag SELECT i, ('{' || 1 + i % 20 || ':' || (1 + i % 7) || 'e-30}/20')::sparsevec
  FROM generate_series(1, 150) i;
INSERT INTO mag SELECT 500 + i, ('{' || 1 + i % 19 || ':' || (1 + i % 5) || 'e20,'
                                 || '20:1e19}/20')::sparsevec FROM generate_series(1, 19) i;
CREATE INDEX ON mag USING hnsw (v sparsevec_l2_ops);
CREATE INDEX ON mag USING hnsw (v sparsevec_l1_ops);
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM mag ORDER BY v <-> '{1:1e-30}/20' LIMIT 500) x;
SELECT count(*) FROM (SELECT id FROM mag ORDER BY v <+> '{1:1e-30}/20' LIMIT 500) x;
RESET hnsw.iterative_scan;
SELECT knn_same('mag', '<+>', '''{2:1e20}/20''::sparsevec', 30);

-- non-zero counts: a query may have more non-zeros than an element (here about 5,500)
CREATE TABLE wide (id int, v sparsevec(10000));
INSERT INTO wide SELECT i, rsv(10000, 40, 3) FROM generate_series(1, 200) i;
CREATE INDEX ON wide USING hnsw (v sparsevec_ip_ops);
SELECT knn_same('wide', '<#>', quote_literal(rsv(10000, 8000, 3)::text) || '::sparsevec', 25);
-- elements of 1,000 non-zeros (pgvector's limit): too wide for one page with their lists at
-- m = 16 (lists in a list tuple), inline at m = 4; above 1,000, pgvector's error
CREATE TABLE nz (id int, v sparsevec(5000));
CREATE INDEX nz_m4 ON nz USING hnsw (v sparsevec_l2_ops) WITH (m = 4);
CREATE INDEX nz_m16 ON nz USING hnsw (v sparsevec_ip_ops);
INSERT INTO nz SELECT i, (SELECT ('{' || string_agg(j || ':' || (1 + (i * j) % 5), ',') || '}/5000')::sparsevec
                          FROM generate_series(i, i + 999) j) FROM generate_series(1, 60) i;
INSERT INTO nz SELECT 100, ('{' || string_agg(j || ':1', ',') || '}/5000')::sparsevec
  FROM generate_series(1, 1001) j;
INSERT INTO nz VALUES (200, '{1:1}/5000'), (201, '{4999:2,5000:1}/5000');
CREATE INDEX nz_l1 ON nz USING hnsw (v sparsevec_l1_ops);
SELECT knn_same('nz', '<->', '''{5:1,500:1}/5000''::sparsevec', 20) AS l2,
       knn_same('nz', '<#>', '''{5:1,500:1,1000:3}/5000''::sparsevec', 30) AS ip,
       knn_same('nz', '<+>', '''{50:1}/5000''::sparsevec', 62) AS l1;
DELETE FROM nz WHERE id % 4 = 0;
VACUUM nz;
INSERT INTO nz SELECT 300 + i, (SELECT ('{' || string_agg(j || ':2', ',') || '}/5000')::sparsevec
                                FROM generate_series(2 * i, 2 * i + 998, 2) j) FROM generate_series(1, 10) i;
SELECT knn_same('nz', '<->', '''{5:1,500:1}/5000''::sparsevec', 20) AS l2,
       knn_same('nz', '<#>', '''{5:1,500:1,1000:3}/5000''::sparsevec', 30) AS ip,
       knn_same('nz', '<+>', '''{50:1}/5000''::sparsevec', 60) AS l1;
SELECT idx, count(*) AS problems FROM unnest(ARRAY['nz_m4', 'nz_m16', 'nz_l1']) idx,
       LATERAL piramid_hnsw_verify(idx::regclass) GROUP BY idx ORDER BY idx;

-- errors: a column without dimensions, a query of other dimensions, an opclass of another type
CREATE TABLE nodim (v sparsevec);
CREATE INDEX ON nodim USING hnsw (v sparsevec_l2_ops);
SELECT id FROM s ORDER BY v <-> '{1:1}/301' LIMIT 1;
CREATE INDEX ON s USING hnsw (v vector_l2_ops);
CREATE INDEX ON s USING ivfflat (v sparsevec_l2_ops);
DROP TABLE s, r, queries, one, big, dup, mag, wide, nz, nodim;
DROP FUNCTION knn_same(text, text, text, int);
DROP FUNCTION rsv(int, int, int);
