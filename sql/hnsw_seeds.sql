-- Seeds: elements that an insert's in-link upkeep could not link from a reachable node become
-- extra entry points of index scans and the verifier until VACUUM links them in
-- (src/core/hnsw/insert.hpp il_unlinked, src/pg/storage/page.hpp). The test hook strands
-- elements the way such a failure would.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS piramid;
RESET client_min_messages;
CREATE TABLE seeds_t (id int PRIMARY KEY, v vector(8)) WITH (autovacuum_enabled = off);
INSERT INTO seeds_t
SELECT i, ARRAY(SELECT sin(i * 7.3 + d * 1.9) + cos(i * 0.37 * d) FROM generate_series(1, 8) d)::vector
FROM generate_series(1, 600) i;
CREATE INDEX seeds_idx ON seeds_t USING hnsw (v vector_l2_ops);
-- rows whose own vector does not come back first from the index (every row is distinct)
CREATE FUNCTION seeds_missed() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM seeds_t a
    WHERE (SELECT b.id FROM seeds_t b ORDER BY b.v <-> a.v LIMIT 1) IS DISTINCT FROM a.id
$$;
-- the same through a cursor opened per row in a PL/pgSQL loop
CREATE FUNCTION seeds_missed_cursor() RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    a record;
    c refcursor;
    got int;
    missed int := 0;
BEGIN
    FOR a IN SELECT id, v FROM seeds_t LOOP
        OPEN c FOR SELECT b.id FROM seeds_t b ORDER BY b.v <-> a.v;
        FETCH c INTO got;
        CLOSE c;
        IF got IS DISTINCT FROM a.id THEN missed := missed + 1; END IF;
    END LOOP;
    RETURN missed;
END $$;
SET enable_seqscan = off;
SELECT seeds_missed() AS missed, piramid_hnsw_selftest_strand('seeds_idx', 0, true) AS seeds;
-- stranded without seeds: the verifier names the rows, and the index misses them
SELECT piramid_hnsw_selftest_strand('seeds_idx', 4, false) AS seeds;
SELECT problem FROM piramid_hnsw_verify('seeds_idx') ORDER BY problem COLLATE "C";
SELECT seeds_missed() AS missed, seeds_missed_cursor() AS missed_cursor;
REINDEX INDEX seeds_idx;
-- stranded as an insert would leave them: seeds, found by every scan
SELECT piramid_hnsw_selftest_strand('seeds_idx', 4, true) AS seeds;
SELECT count(*) AS problems FROM piramid_hnsw_verify('seeds_idx');
SELECT seeds_missed() AS missed, seeds_missed_cursor() AS missed_cursor;
-- iterative scans, and rescans in a join, start from them as well
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM seeds_t ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 600) s;
RESET hnsw.iterative_scan;
SELECT count(*) AS found FROM seeds_t a
CROSS JOIN LATERAL (SELECT b.id FROM seeds_t b ORDER BY b.v <-> a.v LIMIT 1) s WHERE s.id = a.id;
-- inserts and deletes keep them
INSERT INTO seeds_t SELECT i, ARRAY(SELECT cos(i * 3.1 + d) FROM generate_series(1, 8) d)::vector
FROM generate_series(601, 700) i;
DELETE FROM seeds_t WHERE id % 10 = 3;
SELECT piramid_hnsw_selftest_strand('seeds_idx', 0, true) AS seeds, seeds_missed() AS missed;
-- VACUUM links them in and drops them
VACUUM seeds_t;
SELECT piramid_hnsw_selftest_strand('seeds_idx', 0, true) AS seeds;
SELECT count(*) AS problems FROM piramid_hnsw_verify('seeds_idx');
SELECT seeds_missed() AS missed;
-- a seed that VACUUM frees (its row deleted) is dropped too
SELECT piramid_hnsw_selftest_strand('seeds_idx', 3, true) AS seeds;
DELETE FROM seeds_t;
VACUUM seeds_t;
SELECT piramid_hnsw_selftest_strand('seeds_idx', 0, true) AS seeds;
SELECT count(*) AS problems FROM piramid_hnsw_verify('seeds_idx');
-- the hook is not for PUBLIC
CREATE ROLE seeds_user;
SET ROLE seeds_user;
SELECT piramid_hnsw_selftest_strand('seeds_idx', 0, true);
RESET ROLE;
DROP ROLE seeds_user;
SELECT piramid_hnsw_selftest_strand('seeds_t', 0, true);
SELECT piramid_hnsw_selftest_strand('seeds_idx', -1, true);
RESET enable_seqscan;
DROP TABLE seeds_t;
DROP FUNCTION seeds_missed();
DROP FUNCTION seeds_missed_cursor();
