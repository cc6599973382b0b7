-- CREATE INDEX over exact duplicates: an index element holds 9 heap TIDs, so the build puts
-- the first 9 copies of a vector in its graph element and the rest in kCopy elements chained
-- behind it (as inserts do). Every copy must come back from a full iterative scan, with both
-- in-memory build methods, and the index must verify clean.
SET enable_seqscan = off;
SET hnsw.iterative_scan = relaxed_order;
SET hnsw.ef_search = 1000;
SET piramid.gpu = off;
CREATE TABLE bdup (id int, v vector(3));
-- 25 identical vectors (ids 1..25) among 200 distinct others
INSERT INTO bdup SELECT i, '[1,1,1]' FROM generate_series(1, 25) i;
INSERT INTO bdup SELECT i, format('[%s,%s,%s]', i % 17, (i * 7) % 23, i % 5 + 2)::vector
  FROM generate_series(26, 225) i;

CREATE FUNCTION bdup_check(q vector) RETURNS TABLE (returned bigint, distinct_ids bigint,
                                                   copies_returned bigint)
LANGUAGE sql AS $$
  SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE id <= 25)
  FROM (SELECT id FROM bdup ORDER BY v <-> q LIMIT 100000) s
$$;

SET piramid.hnsw_build_method = insert;
CREATE INDEX bdup_idx ON bdup USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
SELECT * FROM bdup_check('[1,1,1]');
SELECT * FROM bdup_check('[3,4,5]');
-- the 25 copies are one graph element and two chained copy elements (9 + 9 + 7 TIDs)
SELECT elements, deleted FROM piramid_hnsw_stats('bdup_idx');
SELECT * FROM piramid_hnsw_verify('bdup_idx');
-- the nearest 25 rows to the repeated vector are exactly its copies
SELECT count(*) FROM (SELECT id FROM bdup ORDER BY v <-> '[1,1,1]' LIMIT 25) s WHERE id <= 25;
-- inserting more copies after the build goes onto the same chain
INSERT INTO bdup SELECT i, '[1,1,1]' FROM generate_series(1001, 1010) i;
SELECT count(*) FILTER (WHERE id <= 25 OR id > 1000) FROM
  (SELECT id FROM bdup ORDER BY v <-> '[1,1,1]' LIMIT 100000) s;
SELECT * FROM piramid_hnsw_verify('bdup_idx');
DROP INDEX bdup_idx;
DELETE FROM bdup WHERE id > 1000;

SET piramid.hnsw_build_method = engine;
CREATE INDEX bdup_idx ON bdup USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
SELECT * FROM bdup_check('[1,1,1]');
SELECT * FROM bdup_check('[3,4,5]');
SELECT elements, deleted FROM piramid_hnsw_stats('bdup_idx');
SELECT * FROM piramid_hnsw_verify('bdup_idx');
DROP INDEX bdup_idx;

-- more copies of one vector than one build item takes (9216): a second item, both reachable
INSERT INTO bdup SELECT i, '[1,1,1]' FROM generate_series(10001, 20000) i;
SET piramid.hnsw_build_method = insert;
CREATE INDEX bdup_idx ON bdup USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
SELECT count(*), count(DISTINCT id) FROM
  (SELECT id FROM bdup ORDER BY v <-> '[1,1,1]' LIMIT 100000) s;
SELECT * FROM piramid_hnsw_verify('bdup_idx');
DROP INDEX bdup_idx;
SET piramid.hnsw_build_method = engine;
CREATE INDEX bdup_idx ON bdup USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
SELECT count(*), count(DISTINCT id) FROM
  (SELECT id FROM bdup ORDER BY v <-> '[1,1,1]' LIMIT 100000) s;
SELECT * FROM piramid_hnsw_verify('bdup_idx');

RESET piramid.hnsw_build_method;
DROP TABLE bdup;
DROP FUNCTION bdup_check(vector);
