-- Wide elements: vector(2000), halfvec(4000) and bit(64000) (pgvector's limits) at m = 16 and
-- m = 100, whose vector and neighbour lists do not fit one page together, keep their lists in
-- a list tuple. Index answer = exact answer after a bulk build, after row-by-row inserts, after
-- deletes + VACUUM (list tuples freed and reused) and REINDEX; the verifier; the limits.
SET enable_seqscan = off;
SET hnsw.ef_search = 1000;
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
-- row i of d dimensions: a smooth pattern that differs per row
CREATE FUNCTION wide_row(i int, d int) RETURNS real[] LANGUAGE sql IMMUTABLE AS $$
  SELECT array_agg(round((sin(i * 0.37 + j * 0.011 + (i % 7) * j * 0.001))::numeric, 3)::real)
  FROM generate_series(1, d) j $$;

CREATE TABLE wv (id int PRIMARY KEY, v vector(2000));
INSERT INTO wv SELECT i, wide_row(i, 2000)::vector FROM generate_series(1, 150) i;
CREATE INDEX wv_l2 ON wv USING hnsw (v vector_l2_ops);
CREATE INDEX wv_ip ON wv USING hnsw (v vector_ip_ops) WITH (m = 100, ef_construction = 200);
CREATE INDEX wv_cos ON wv USING hnsw (v vector_cosine_ops);
INSERT INTO wv SELECT i, wide_row(i, 2000)::vector FROM generate_series(151, 300) i;
SELECT op, knn_same('wv', op, quote_literal(wide_row(7, 2000)::vector::text) || '::vector', 25) AS near_row,
       knn_same('wv', op, quote_literal(wide_row(1000, 2000)::vector::text) || '::vector', 60) AS fresh
  FROM unnest(ARRAY['<->', '<#>', '<=>']) op;
SELECT idx, count(*) AS problems FROM unnest(ARRAY['wv_l2', 'wv_ip', 'wv_cos']) idx,
       LATERAL piramid_hnsw_verify(idx::regclass) GROUP BY idx ORDER BY idx;
-- one element a page (8,068 bytes), list tuples packed on pages of their own
SELECT elements, pages <= elements + elements / 20 + 3 AS compact FROM piramid_hnsw_stats('wv_l2');
SELECT max_level > 0 AS has_upper_levels FROM piramid_hnsw_stats('wv_ip');
DELETE FROM wv WHERE id % 3 = 0;
VACUUM wv;
SELECT free_slots > 0 AS freed FROM piramid_hnsw_stats('wv_l2');
INSERT INTO wv SELECT i, wide_row(i, 2000)::vector FROM generate_series(400, 480) i;
SELECT op, knn_same('wv', op, quote_literal(wide_row(9, 2000)::vector::text) || '::vector', 40) AS k40
  FROM unnest(ARRAY['<->', '<#>', '<=>']) op;
SELECT idx, count(*) AS problems FROM unnest(ARRAY['wv_l2', 'wv_ip', 'wv_cos']) idx,
       LATERAL piramid_hnsw_verify(idx::regclass) GROUP BY idx ORDER BY idx;
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM wv ORDER BY v <-> wide_row(1, 2000)::vector LIMIT 1000) x;
RESET hnsw.iterative_scan;
-- two scans of the wide index per outer row (LATERAL), and a cursor moving through one
SELECT count(*) FILTER (WHERE x.id = a.id) AS self_found, count(*) AS rows
  FROM (SELECT id, v FROM wv ORDER BY id LIMIT 20) a,
       LATERAL (SELECT id FROM wv ORDER BY v <-> a.v LIMIT 1) x,
       LATERAL (SELECT id FROM wv ORDER BY v <=> a.v LIMIT 2) y
 WHERE y.id IS NOT NULL;
BEGIN;
DECLARE wc CURSOR FOR SELECT id FROM wv ORDER BY v <-> wide_row(2, 2000)::vector;
MOVE FORWARD 5 IN wc;
FETCH 3 FROM wc \g /dev/null
CLOSE wc;
COMMIT;
REINDEX INDEX wv_l2;
SELECT knn_same('wv', '<->', quote_literal(wide_row(11, 2000)::vector::text) || '::vector', 30);

-- halfvec(4000), bit(64000)
CREATE TABLE wh (id int, v halfvec(4000));
INSERT INTO wh SELECT i, (wide_row(i, 2000) || wide_row(i + 1, 2000))::halfvec FROM generate_series(1, 120) i;
CREATE INDEX wh_l1 ON wh USING hnsw (v halfvec_l1_ops);
INSERT INTO wh SELECT i, (wide_row(i, 2000) || wide_row(i + 2, 2000))::halfvec FROM generate_series(121, 200) i;
SELECT knn_same('wh', '<+>', quote_literal((wide_row(5, 2000) || wide_row(6, 2000))::halfvec::text) || '::halfvec', 30);
CREATE TABLE wb (id int, v bit(64000));
INSERT INTO wb SELECT i, (SELECT string_agg(CASE WHEN (j * 7919 + i * 104729) % 97 < 40 + i % 20 THEN '1' ELSE '0' END, '')
                            FROM generate_series(1, 64000) j)::bit(64000) FROM generate_series(1, 80) i;
CREATE INDEX wb_ham ON wb USING hnsw (v bit_hamming_ops);
CREATE INDEX wb_jac ON wb USING hnsw (v bit_jaccard_ops);
SELECT knn_same('wb', '<~>', quote_literal((SELECT v FROM wb WHERE id = 3)::text) || '::bit(64000)', 20) AS hamming,
       knn_same('wb', '<%>', quote_literal((SELECT v FROM wb WHERE id = 4)::text) || '::bit(64000)', 20) AS jaccard;
SELECT idx, count(*) AS problems FROM unnest(ARRAY['wh_l1', 'wb_ham', 'wb_jac']) idx,
       LATERAL piramid_hnsw_verify(idx::regclass) GROUP BY idx ORDER BY idx;

-- the limits are pgvector's, whatever m
CREATE TABLE w2001 (v vector(2001));
CREATE INDEX ON w2001 USING hnsw (v vector_l2_ops);
CREATE TABLE wh4001 (v halfvec(4001));
CREATE INDEX ON wh4001 USING hnsw (v halfvec_l2_ops);
CREATE TABLE wb64001 (v bit(64001));
CREATE INDEX ON wb64001 USING hnsw (v bit_hamming_ops);
DROP TABLE wv, wh, wb, w2001, wh4001, wb64001;
DROP FUNCTION knn_same(text, text, text, int);
DROP FUNCTION wide_row(int, int);
