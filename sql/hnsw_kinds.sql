-- hnsw over halfvec and bit: every opclass, halfvec columns and expression indexes (a cast to
-- halfvec, binary_quantize), exact answers on small data (index = exact scan, distance ties
-- broken alike), odd dimensions (a padded last lane), zero vectors, NULLs, duplicates, inserts
-- after build, VACUUM, the errors of CREATE INDEX and of queries, piramid_hnsw_stats.
SET enable_seqscan = off;
SET hnsw.ef_search = 400;
CREATE TABLE h (id int PRIMARY KEY, v halfvec(5));
INSERT INTO h SELECT i, ('[' || (i % 17) * 0.5 || ',' || (i % 13) - 6 || ',' || (i % 7) * 0.25 || ','
                          || (i % 5) || ',' || (i % 3) * 1000 || ']')::halfvec
  FROM generate_series(1, 400) i;
INSERT INTO h VALUES (1001, NULL), (1002, '[0,0,0,0,0]'), (1003, '[1,1,1,1,1]'), (1004, '[1,1,1,1,1]');
CREATE INDEX h_l2 ON h USING hnsw (v halfvec_l2_ops);
CREATE INDEX h_ip ON h USING hnsw (v halfvec_ip_ops);
CREATE INDEX h_cos ON h USING hnsw (v halfvec_cosine_ops);
CREATE INDEX h_l1 ON h USING hnsw (v halfvec_l1_ops);
EXPLAIN (COSTS OFF) SELECT id FROM h ORDER BY v <-> '[1,2,3,4,5]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM h ORDER BY v <#> '[1,2,3,4,5]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM h ORDER BY v <=> '[1,2,3,4,5]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM h ORDER BY v <+> '[1,2,3,4,5]' LIMIT 5;

-- index answer (distances, in order) = exact answer, for any table, expression and operator
CREATE FUNCTION knn_same(tbl text, expr text, op text, q text, k int) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE a float8[]; b float8[];
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
  EXECUTE format('SELECT array_agg(d ORDER BY n) FROM (SELECT row_number() OVER () n, d FROM '
                 '(SELECT %s %s %s AS d FROM %s ORDER BY %s %s %s LIMIT %s) s) s2',
                 expr, op, q, tbl, expr, op, q, k) INTO a;
  SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on;
  EXECUTE format('SELECT array_agg(d ORDER BY n) FROM (SELECT row_number() OVER () n, d FROM '
                 '(SELECT %s %s %s AS d FROM %s ORDER BY %s %s %s LIMIT %s) s) s2',
                 expr, op, q, tbl, expr, op, q, k) INTO b;
  IF a IS DISTINCT FROM b THEN RAISE NOTICE 'index % exact %', a, b; END IF;
  RETURN a IS NOT DISTINCT FROM b;
END $$;
SELECT op, knn_same('h', 'v', op, '''[1,2,3,4,5]''::halfvec', 10) AS k10,
       knn_same('h', 'v', op, '''[8,-6,1.5,4,2000]''::halfvec', 50) AS k50
  FROM unnest(ARRAY['<->', '<#>', '<=>', '<+>']) op;
-- NULL and (under cosine) the zero vector are not indexed; the exact duplicates both are
-- (a full iterative scan returns every indexed row)
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM h ORDER BY v <-> '[0,0,0,0,0]' LIMIT 1000) s;
SELECT count(*) FROM (SELECT id FROM h ORDER BY v <=> '[1,0,0,0,0]' LIMIT 1000) s;
RESET hnsw.iterative_scan;
SELECT id FROM h ORDER BY v <-> '[1,1,1,1,1]', id LIMIT 2;
-- inserts after build, then VACUUM
INSERT INTO h SELECT i, ('[' || i % 11 || ',' || i % 3 || ',0.125,-2,' || i % 9 || ']')::halfvec
  FROM generate_series(2000, 2300) i;
DELETE FROM h WHERE id % 3 = 0;
VACUUM h;
SELECT op, knn_same('h', 'v', op, '''[1,2,3,4,5]''::halfvec', 20) AS k20
  FROM unnest(ARRAY['<->', '<#>', '<=>', '<+>']) op;
SELECT idx, count(*) AS problems FROM unnest(ARRAY['h_l2', 'h_ip', 'h_cos', 'h_l1']) idx,
       LATERAL piramid_hnsw_verify(idx::regclass) GROUP BY idx ORDER BY idx;
SELECT dims, metric FROM piramid_hnsw_stats('h_l2');
SELECT dims, metric FROM piramid_hnsw_stats('h_cos');
-- query errors
SELECT id FROM h ORDER BY v <-> '[1,2,3]' LIMIT 1;

-- expression indexes over a vector column: halfvec cast and binary quantization
CREATE TABLE e (id int PRIMARY KEY, v vector(9));
INSERT INTO e SELECT i, ('[' || (SELECT string_agg((((i * 7 + j * 13) % 19) - 9)::text, ',')
                               FROM generate_series(1, 9) j) || ']')::vector
  FROM generate_series(1, 500) i;
INSERT INTO e VALUES (1001, '[0,0,0,0,0,0,0,0,0]'), (1002, NULL);
CREATE INDEX e_half ON e USING hnsw ((v::halfvec(9)) halfvec_cosine_ops);
CREATE INDEX e_ham ON e USING hnsw ((binary_quantize(v)::bit(9)) bit_hamming_ops);
CREATE INDEX e_jac ON e USING hnsw ((binary_quantize(v)::bit(9)) bit_jaccard_ops);
EXPLAIN (COSTS OFF) SELECT id FROM e ORDER BY v::halfvec(9) <=> '[1,2,3,4,5,6,7,8,9]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM e
 ORDER BY binary_quantize(v)::bit(9) <~> binary_quantize('[1,-2,3,-4,5,-6,7,-8,9]'::vector) LIMIT 5;
SELECT knn_same('e', 'v::halfvec(9)', '<=>', '''[1,2,3,4,5,6,7,8,9]''::halfvec', 25) AS cos,
       knn_same('e', 'binary_quantize(v)::bit(9)', '<~>', 'B''101010101''', 25) AS hamming,
       knn_same('e', 'binary_quantize(v)::bit(9)', '<%>', 'B''101010101''', 25) AS jaccard,
       knn_same('e', 'binary_quantize(v)::bit(9)', '<~>', 'B''000000000''', 300) AS hamming_all;
-- the all-zero bit string is indexed under both bit opclasses (the zero vector quantizes to it)
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM e ORDER BY binary_quantize(v)::bit(9) <%> B'000000000' LIMIT 1000) s;
SELECT count(*) FROM (SELECT id FROM e ORDER BY v::halfvec(9) <=> '[1,0,0,0,0,0,0,0,0]' LIMIT 1000) s;
RESET hnsw.iterative_scan;
SELECT id FROM e ORDER BY binary_quantize(v)::bit(9) <~> B'10101' LIMIT 1;
SELECT dims, metric FROM piramid_hnsw_stats('e_ham');
SELECT dims, metric FROM piramid_hnsw_stats('e_jac');
SELECT idx, count(*) AS problems FROM unnest(ARRAY['e_half', 'e_ham', 'e_jac']) idx,
       LATERAL piramid_hnsw_verify(idx::regclass) GROUP BY idx ORDER BY idx;

-- one dimension under halfvec cosine: only the sign matters (stored as +-1), so a query finds
-- every row of its sign at distance 0 however many distinct values there are
CREATE TABLE h1 (id int PRIMARY KEY, v halfvec(1));
INSERT INTO h1 SELECT i, ARRAY[(-1) ^ (i % 3) * 2 ^ (i % 20 - 10) * (1 + (i % 997) / 1024.0)]::halfvec
  FROM generate_series(1, 2000) i;
SELECT count(DISTINCT v) AS distinct_values FROM h1;
CREATE INDEX h1_cos ON h1 USING hnsw (v halfvec_cosine_ops);
SELECT knn_same('h1', 'v', '<=>', '''[3]''::halfvec', 100) AS positive,
       knn_same('h1', 'v', '<=>', '''[-0.001]''::halfvec', 100) AS negative;
SELECT count(*) FROM (SELECT id FROM h1 ORDER BY v <=> '[5]' LIMIT 100) s
 WHERE (SELECT v FROM h1 t WHERE t.id = s.id) > '[0]';
DROP TABLE h1;

-- bit columns of many lengths (lanes padded with zero bits)
CREATE TABLE bits (id int PRIMARY KEY, b bit(70));
INSERT INTO bits SELECT i, (SELECT string_agg(((i * j * 2654435761::bigint >> 7) % 2)::text, '')
                            FROM generate_series(1, 70) j)::bit(70)
  FROM generate_series(1, 300) i;
CREATE INDEX bits_ham ON bits USING hnsw (b bit_hamming_ops) WITH (m = 4, ef_construction = 16);
SELECT knn_same('bits', 'b', '<~>', '(SELECT b FROM bits WHERE id = 7)', 40) AS hamming;
SELECT count(*) AS problems FROM piramid_hnsw_verify('bits_ham');

-- CREATE INDEX errors: dimensions, types, opclass/type mismatches
CREATE TABLE bad (id int, hv halfvec, hv4001 halfvec(4001), b bit varying(8), b64001 bit(64001),
                  v vector(3), bb bit(8));
CREATE INDEX ON bad USING hnsw (hv halfvec_l2_ops);
CREATE INDEX ON bad USING hnsw (hv4001 halfvec_l2_ops);
CREATE INDEX ON bad USING hnsw (b bit_hamming_ops);
CREATE INDEX ON bad USING hnsw (b64001 bit_hamming_ops);
CREATE INDEX ON bad USING hnsw (v halfvec_l2_ops);
CREATE INDEX ON bad USING hnsw (v bit_hamming_ops);
CREATE INDEX ON bad USING hnsw (bb vector_l2_ops);
CREATE INDEX ON bad USING hnsw (bb);
DROP TABLE bad, bits, e, h;
DROP FUNCTION knn_same;
