-- ivfflat on halfvec (l2, inner product, cosine) and bit (Hamming): exact top 10 at
-- probes = lists against a sequential scan, recall at fewer probes, inserts after the build,
-- VACUUM, zero halfvecs under cosine, type and dimension errors with their SQLSTATEs.
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

CREATE TABLE e (h halfvec(3), b bit(3), vb varbit(3), hu halfvec);
SELECT pg_temp.try('CREATE INDEX ON e USING ivfflat (vb bit_hamming_ops)');
SELECT pg_temp.try('CREATE INDEX ON e USING ivfflat ((vb::bit(64001)) bit_hamming_ops)');
SELECT pg_temp.try('CREATE INDEX ON e USING ivfflat ((h::halfvec(4001)) halfvec_l2_ops)');
SELECT pg_temp.try('CREATE INDEX ON e USING ivfflat (hu halfvec_l2_ops)');
SELECT pg_temp.try('CREATE INDEX ON e USING ivfflat (b bit_jaccard_ops)');
SELECT pg_temp.try('CREATE INDEX ON e USING ivfflat (h halfvec_l1_ops)');
CREATE INDEX ON e USING ivfflat (h halfvec_l2_ops) WITH (lists = 2);
CREATE INDEX ON e USING ivfflat (b bit_hamming_ops) WITH (lists = 2);
SELECT pg_temp.try($$INSERT INTO e (h) VALUES ('[1,2]')$$);
SELECT pg_temp.try($$INSERT INTO e (b) VALUES (B'10')$$);
DROP TABLE e;

-- 3000 rows, 12 dimensions (1 probe of 30 / 20 / 10 lists for the recall checks); bit(40) rows from a hash of the id
CREATE TABLE t (id int PRIMARY KEY, h halfvec(12), b bit(40));
INSERT INTO t SELECT i,
    ARRAY(SELECT sin(i * 0.41 + j * 1.7) + cos(i * (j + 3) * 0.013) FROM generate_series(1, 12) j)::halfvec,
    ('x' || lpad(to_hex(hashint4(i)), 8, '0') || lpad(to_hex(i % 256), 2, '0'))::bit(40)
    FROM generate_series(1, 3000) i;
CREATE TABLE q (qid int, h halfvec(12), b bit(40));
INSERT INTO q SELECT i,
    ARRAY(SELECT cos(i * 1.3 + j * 0.6) + sin(i * (j + 5) * 0.017) FROM generate_series(1, 12) j)::halfvec,
    ('x' || lpad(to_hex(hashint4(i + 7777)), 8, '0') || lpad(to_hex(i * 13 % 256), 2, '0'))::bit(40)
    FROM generate_series(1, 20) i;

-- Queries whose index top 10 has the exact top 10's distances (the distances, not the ids: bit
-- rows tie at equal Hamming distances), and the recall by distance over all queries: a returned
-- row counts when its distance is at most the exact 10th distance.
CREATE FUNCTION pg_temp.check(col text, op text, OUT exact_queries int, OUT recall numeric) LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL enable_seqscan = off;
    EXECUTE format($q$
        WITH e AS (SELECT qid, d FROM pg_temp.exact(%L, %L)),
             got AS (SELECT q.qid, ARRAY(SELECT t.%I %s q.%I FROM t ORDER BY t.%I %s q.%I LIMIT 10) AS d FROM q)
        SELECT count(*) FILTER (WHERE e.d = got.d)::int,
               round(sum((SELECT count(*) FROM unnest(got.d) g WHERE g <= e.d[10]))::numeric / sum(10), 3)
        FROM e JOIN got USING (qid)$q$, col, op, col, op, col, col, op, col) INTO exact_queries, recall;
END $$;
CREATE FUNCTION pg_temp.exact(col text, op text) RETURNS TABLE (qid int, d float8[]) LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL enable_indexscan = off;
    SET LOCAL enable_bitmapscan = off;
    SET LOCAL enable_seqscan = on;
    RETURN QUERY EXECUTE format('SELECT q.qid, ARRAY(SELECT t.%I %s q.%I FROM t ORDER BY t.%I %s q.%I LIMIT 10) FROM q',
        col, op, col, col, op, col);
END $$;

CREATE INDEX t_h ON t USING ivfflat (h halfvec_l2_ops) WITH (lists = 30);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY h <-> '[1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 10;
RESET enable_seqscan;
SET ivfflat.probes = 30;
SELECT * FROM pg_temp.check('h', '<->');
SET ivfflat.probes = 1;
SELECT recall < 1 AS approximate, recall > 0.3 AS useful FROM pg_temp.check('h', '<->');
INSERT INTO t SELECT i,
    ARRAY(SELECT (i % 4) + sin(i * 0.23 + j) FROM generate_series(1, 12) j)::halfvec,
    ('x' || lpad(to_hex(hashint4(i)), 8, '0') || lpad(to_hex(i % 256), 2, '0'))::bit(40)
    FROM generate_series(3001, 4000) i;
DELETE FROM t WHERE id % 5 = 0;
VACUUM t;
SET ivfflat.probes = 30;
SELECT * FROM pg_temp.check('h', '<->');
SET enable_seqscan = off;
SELECT count(*) AS rows_by_index, (SELECT count(*) FROM t) AS rows
    FROM (SELECT id FROM t ORDER BY h <-> '[0,0,0,0,0,0,0,0,0,0,0,0]') s;
RESET enable_seqscan;
DROP INDEX t_h;

CREATE INDEX t_hip ON t USING ivfflat (h halfvec_ip_ops) WITH (lists = 20);
SET ivfflat.probes = 20;
SELECT * FROM pg_temp.check('h', '<#>');
SET ivfflat.probes = 1;
SELECT recall < 1 AS approximate, recall > 0.3 AS useful FROM pg_temp.check('h', '<#>');
DROP INDEX t_hip;

INSERT INTO t (id, h) VALUES (9001, array_fill(0, ARRAY[12])::halfvec);
CREATE INDEX t_hcos ON t USING ivfflat (h halfvec_cosine_ops) WITH (lists = 20);
INSERT INTO t (id, h) VALUES (9002, array_fill(0, ARRAY[12])::halfvec);
SET ivfflat.probes = 20;
SELECT * FROM pg_temp.check('h', '<=>');
SET enable_seqscan = off;
SELECT count(*) AS rows_by_index, (SELECT count(*) FROM t WHERE l2_norm(h) > 0) AS nonzero_rows
    FROM (SELECT id FROM t ORDER BY h <=> '[1,2,3,4,5,6,7,8,9,10,11,12]') s;
RESET enable_seqscan;
SET ivfflat.probes = 1;
SELECT recall < 1 AS approximate, recall > 0.3 AS useful FROM pg_temp.check('h', '<=>');
DROP INDEX t_hcos;
DELETE FROM t WHERE id > 9000;

CREATE INDEX t_b ON t USING ivfflat (b bit_hamming_ops) WITH (lists = 10);
SET ivfflat.probes = 10;
SELECT * FROM pg_temp.check('b', '<~>');
SET ivfflat.probes = 1;
SELECT recall < 1 AS approximate, recall > 0.3 AS useful FROM pg_temp.check('b', '<~>');
INSERT INTO t SELECT i, NULL,
    ('x' || lpad(to_hex(hashint4(i * 3)), 8, '0') || lpad(to_hex(i % 256), 2, '0'))::bit(40)
    FROM generate_series(10001, 10500) i;
SET ivfflat.probes = 10;
SELECT * FROM pg_temp.check('b', '<~>');
SET enable_seqscan = off;
SELECT count(*) AS rows_by_index, (SELECT count(*) FROM t) AS rows
    FROM (SELECT id FROM t ORDER BY b <~> B'0000000000000000000000000000000000000000') s;
RESET enable_seqscan;
RESET ivfflat.probes;
DROP TABLE t, q;
