-- ivfflat on vector: options and errors (with SQLSTATEs), index answers against exact answers
-- (probes = lists must give the exact top 10), recall at fewer probes, inserts after the build,
-- VACUUM, NULLs, zero vectors under cosine, iterative scans, l2 / inner product / cosine.
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- k-means support distance: acos(a.b) / pi
SELECT vector_spherical_distance('[1,0]', '[0,1]') AS half,
       vector_spherical_distance('[1,0]', '[-1,0]') AS one,
       vector_spherical_distance('[0.6,0.8]', '[0.6,0.8]') AS zero,
       vector_spherical_distance('[2,0]', '[3,0]') AS clamped;
SELECT pg_temp.try($$SELECT vector_spherical_distance('[1,0]', '[1,0,0]')$$);

-- options and errors
CREATE TABLE e (v vector(3), u vector);
SELECT pg_temp.try('CREATE INDEX ON e USING ivfflat (v) WITH (lists = 0)');
SELECT pg_temp.try('CREATE INDEX ON e USING ivfflat (v) WITH (lists = 32769)');
SELECT pg_temp.try('CREATE INDEX ON e USING ivfflat (v) WITH (m = 4)');
SELECT pg_temp.try('CREATE INDEX ON e USING ivfflat (u)');
SELECT pg_temp.try('CREATE INDEX ON e USING ivfflat ((v::vector(2001)))');
SELECT pg_temp.try('CREATE INDEX ON e USING ivfflat (v vector_l1_ops)');
SELECT pg_temp.try('SET ivfflat.probes = 0');
SELECT pg_temp.try('SET ivfflat.max_probes = 32769');
SELECT pg_temp.try('SET ivfflat.iterative_scan = strict_order');
SELECT pg_temp.try('SET ivfflat.nonexistent = 1');
CREATE INDEX e_idx ON e USING ivfflat (v) WITH (lists = 2);
SELECT pg_temp.try($$INSERT INTO e (v) VALUES ('[1,2]')$$);
SELECT pg_temp.try($$INSERT INTO e (v) VALUES ('[1,2,3]')$$);
SELECT amname, opcname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_am a ON a.oid = c.relam JOIN pg_opclass o ON o.oid = i.indclass[0]
    WHERE c.relname = 'e_idx';
SELECT reloptions FROM pg_class WHERE relname = 'e_idx';
DROP TABLE e;

-- data: 3000 rows of 8 dimensions in loose groups, 20 queries
CREATE TABLE t (id int PRIMARY KEY, v vector(8));
INSERT INTO t SELECT i, ARRAY(SELECT (i % 7) + sin(i * 0.37 + j * 1.91) FROM generate_series(1, 8) j)
    FROM generate_series(1, 3000) i;
CREATE TABLE q (qid int, v vector(8));
INSERT INTO q SELECT i, ARRAY(SELECT (i % 7) + cos(i * 1.13 + j * 0.71) FROM generate_series(1, 8) j)
    FROM generate_series(1, 20) i;

-- exact answers (sequential scan and sort) for each metric
CREATE FUNCTION pg_temp.exact(op text) RETURNS TABLE (qid int, ids int[]) LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL enable_indexscan = off;
    SET LOCAL enable_bitmapscan = off;
    SET LOCAL enable_seqscan = on;
    RETURN QUERY EXECUTE format('SELECT q.qid, ARRAY(SELECT t.id FROM t ORDER BY t.v %s q.v, t.id LIMIT 10) FROM q', op);
END $$;
-- how many queries get the exact top 10 (as a set: the index breaks distance ties by heap TID,
-- and computes cosine from normalised floats), and the recall over all queries
CREATE FUNCTION pg_temp.check(op text, OUT exact_queries int, OUT recall numeric) LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL enable_seqscan = off;
    EXECUTE format($q$
        WITH e AS (SELECT * FROM pg_temp.exact(%L)),
             got AS (SELECT q.qid, ARRAY(SELECT t.id FROM t ORDER BY t.v %s q.v LIMIT 10) AS ids FROM q)
        SELECT count(*) FILTER (WHERE (SELECT array_agg(x ORDER BY x) FROM unnest(e.ids) x) =
                                     (SELECT array_agg(x ORDER BY x) FROM unnest(got.ids) x))::int,
               round(sum((SELECT count(*) FROM unnest(got.ids) g WHERE g = ANY (e.ids)))::numeric / sum(10), 3)
        FROM e JOIN got USING (qid)$q$, op, op) INTO exact_queries, recall;
END $$;

CREATE INDEX t_l2 ON t USING ivfflat (v vector_l2_ops) WITH (lists = 30);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 10;
RESET enable_seqscan;
SET ivfflat.probes = 30;
SELECT * FROM pg_temp.check('<->');
SET ivfflat.probes = 1;
SELECT recall < 1 AS approximate, recall > 0.3 AS useful FROM pg_temp.check('<->');
SET ivfflat.probes = 5;
SELECT (SELECT recall FROM pg_temp.check('<->')) >= 0.8 AS better;
-- probes beyond lists read every list
SET ivfflat.probes = 1000;
SELECT * FROM pg_temp.check('<->');

-- inserts after the build, NULLs, then VACUUM after deletes
INSERT INTO t SELECT i, ARRAY(SELECT (i % 5) + sin(i * 0.53 + j * 0.29) FROM generate_series(1, 8) j)
    FROM generate_series(3001, 4000) i;
INSERT INTO t SELECT i, NULL FROM generate_series(4001, 4010) i;
SET ivfflat.probes = 30;
SELECT * FROM pg_temp.check('<->');
SET enable_seqscan = off;
SELECT count(*) AS rows_by_index FROM (SELECT id FROM t ORDER BY v <-> '[0,0,0,0,0,0,0,0]') s;
RESET enable_seqscan;
DELETE FROM t WHERE id % 3 = 0;
VACUUM t;
SELECT * FROM pg_temp.check('<->');
SET enable_seqscan = off;
SELECT count(*) AS rows_by_index FROM (SELECT id FROM t ORDER BY v <-> '[0,0,0,0,0,0,0,0]') s;
RESET enable_seqscan;
SELECT count(*) FILTER (WHERE v IS NOT NULL) AS live_rows FROM t;
-- inserts after VACUUM
INSERT INTO t SELECT i, ARRAY(SELECT sin(i * 0.11 + j) FROM generate_series(1, 8) j)
    FROM generate_series(5001, 5300) i;
SELECT * FROM pg_temp.check('<->');
REINDEX INDEX t_l2;
SELECT * FROM pg_temp.check('<->');
DROP INDEX t_l2;

-- inner product
CREATE INDEX t_ip ON t USING ivfflat (v vector_ip_ops) WITH (lists = 25);
SET ivfflat.probes = 25;
SELECT * FROM pg_temp.check('<#>');
SET ivfflat.probes = 3;
SELECT recall < 1 AS approximate, recall > 0.3 AS useful FROM pg_temp.check('<#>');
DROP INDEX t_ip;

-- cosine, with zero vectors (never returned by the index: their distance is NaN)
INSERT INTO t SELECT i, array_fill(0, ARRAY[8])::vector FROM generate_series(6001, 6005) i;
CREATE INDEX t_cos ON t USING ivfflat (v vector_cosine_ops) WITH (lists = 25);
INSERT INTO t SELECT i, array_fill(0, ARRAY[8])::vector FROM generate_series(6006, 6010) i;
SET ivfflat.probes = 25;
SELECT * FROM pg_temp.check('<=>');
SET enable_seqscan = off;
SELECT count(*) AS rows_by_index,
       (SELECT count(*) FROM t WHERE v IS NOT NULL AND vector_norm(v) > 0) AS nonzero_rows
    FROM (SELECT id FROM t ORDER BY v <=> '[1,2,3,4,5,6,7,8]') s;
SELECT count(*) AS zero_query_rows FROM (SELECT id FROM t ORDER BY v <=> '[0,0,0,0,0,0,0,0]') s;
RESET enable_seqscan;
SET ivfflat.probes = 3;
SELECT recall < 1 AS approximate, recall > 0.3 AS useful FROM pg_temp.check('<=>');
DROP INDEX t_cos;

-- iterative scans: a selective filter with one probe
CREATE INDEX t_l2 ON t USING ivfflat (v vector_l2_ops) WITH (lists = 40);
SET enable_seqscan = off;
SET ivfflat.probes = 1;
SELECT count(*) < 10 AS short_without_iterative
    FROM (SELECT id FROM t WHERE id % 97 = 0 ORDER BY v <-> '[3,3,3,3,3,3,3,3]' LIMIT 10) s;
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) AS with_iterative
    FROM (SELECT id FROM t WHERE id % 97 = 0 ORDER BY v <-> '[3,3,3,3,3,3,3,3]' LIMIT 10) s;
-- an iterative scan without a filter returns every row
SELECT count(*) AS all_rows FROM (SELECT id FROM t ORDER BY v <-> '[3,3,3,3,3,3,3,3]') s;
SET ivfflat.max_probes = 1;
SELECT count(*) < 10 AS capped_by_max_probes
    FROM (SELECT id FROM t WHERE id % 97 = 0 ORDER BY v <-> '[3,3,3,3,3,3,3,3]' LIMIT 10) s;
-- max_probes below probes: probes wins
SET ivfflat.probes = 40;
SELECT count(*) AS all_rows FROM (SELECT id FROM t ORDER BY v <-> '[3,3,3,3,3,3,3,3]') s;
RESET ivfflat.max_probes;
RESET ivfflat.iterative_scan;
RESET ivfflat.probes;
RESET enable_seqscan;

-- an empty table, then rows: lists without entries take inserts
CREATE TABLE z (id int, v vector(2));
CREATE INDEX ON z USING ivfflat (v) WITH (lists = 4);
INSERT INTO z SELECT i, ARRAY[i, -i] FROM generate_series(1, 50) i;
SET enable_seqscan = off;
SET ivfflat.probes = 4;
SELECT array_agg(id) FROM (SELECT id FROM z ORDER BY v <-> '[10,-10]' LIMIT 5) s;
TRUNCATE z;
SELECT count(*) FROM (SELECT id FROM z ORDER BY v <-> '[10,-10]') s;
RESET enable_seqscan;
RESET ivfflat.probes;
DROP TABLE z, t, q;

-- space freed by VACUUM is reused: delete every row, VACUUM, insert them again, three times; then
-- half of them. The index keeps its size, and an exact-probe scan still finds every row.
CREATE TABLE g (id int, v vector(64));
INSERT INTO g SELECT i, (SELECT array_agg(sin(i * 0.37 + j * 1.3)) FROM generate_series(1, 64) j)::vector
FROM generate_series(1, 3000) i;
CREATE INDEX g_idx ON g USING ivfflat (v) WITH (lists = 4);
CREATE TABLE g_rows AS SELECT * FROM g;
CREATE TABLE g_size (cycle int, pages bigint);
INSERT INTO g_size VALUES (0, pg_relation_size('g_idx') / current_setting('block_size')::int);
DELETE FROM g;
VACUUM g;
INSERT INTO g SELECT * FROM g_rows;
VACUUM g;
INSERT INTO g_size VALUES (1, pg_relation_size('g_idx') / current_setting('block_size')::int);
DELETE FROM g;
VACUUM g;
INSERT INTO g SELECT * FROM g_rows;
VACUUM g;
INSERT INTO g_size VALUES (2, pg_relation_size('g_idx') / current_setting('block_size')::int);
DELETE FROM g;
VACUUM g;
INSERT INTO g SELECT * FROM g_rows;
VACUUM g;
INSERT INTO g_size VALUES (3, pg_relation_size('g_idx') / current_setting('block_size')::int);
DELETE FROM g WHERE id % 2 = 0;
VACUUM g;
INSERT INTO g SELECT * FROM g_rows WHERE id % 2 = 0;
INSERT INTO g_size VALUES (4, pg_relation_size('g_idx') / current_setting('block_size')::int);
SELECT s.cycle, s.pages - b.pages AS pages_added
FROM g_size s, g_size b WHERE b.cycle = 0 AND s.cycle > 0 ORDER BY s.cycle;
SET enable_seqscan = off;
SET ivfflat.probes = 4;
SELECT count(*) AS rows_found, count(DISTINCT id) AS distinct_ids
FROM (SELECT id FROM g ORDER BY v <-> (SELECT v FROM g_rows WHERE id = 1)) s;
RESET ivfflat.probes;
RESET enable_seqscan;
DROP TABLE g, g_rows, g_size;

-- 1536-d vectors live in TOAST: the heap is a few pages of pointers while a probed list is
-- hundreds of index pages. The planner still takes the index for a k-NN query (pgvector's cost
-- rule: pages beyond the heap's are not charged when under half the lists are probed).
SELECT setseed(0.5);
CREATE TABLE tc (i int4, v vector(1536));
INSERT INTO tc SELECT i, (SELECT array_agg(random()) FROM generate_series(1, 1536) WHERE i > 0)::vector
FROM generate_series(1, 2000) i;
CREATE INDEX tc_idx ON tc USING ivfflat (v vector_l2_ops) WITH (lists = 5);
ANALYZE tc;
SELECT pg_relation_size('tc_idx') > 20 * pg_relation_size('tc') AS index_much_larger_than_heap;
EXPLAIN (COSTS OFF) SELECT i FROM tc ORDER BY v <-> (SELECT v FROM tc WHERE i = 7) LIMIT 10;
EXPLAIN (COSTS OFF) SELECT i FROM tc WHERE v <-> (SELECT v FROM tc WHERE i = 7) < 1
ORDER BY v <-> (SELECT v FROM tc WHERE i = 7) LIMIT 10;
-- probing every list is a full read: then the sequential scan wins
SET ivfflat.probes = 5;
EXPLAIN (COSTS OFF) SELECT i FROM tc ORDER BY v <-> (SELECT v FROM tc WHERE i = 7) LIMIT 10;
RESET ivfflat.probes;
DROP TABLE tc;
