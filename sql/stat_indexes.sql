-- piramid_stat_indexes: per-index activity counters (scans, tuples, work, inserts, VACUUMs).
-- The counts of this test's own indexes are the same with and without shared_preload_libraries
-- (autovacuum is off for the table; nothing else touches it).
SET client_min_messages = warning;
CREATE TABLE st (id int PRIMARY KEY, v vector(3)) WITH (autovacuum_enabled = off);
INSERT INTO st SELECT i, ARRAY[i % 7, i % 11, i % 13]::vector FROM generate_series(1, 500) i;
CREATE INDEX st_hnsw ON st USING hnsw (v vector_l2_ops);
CREATE INDEX st_ivf ON st USING ivfflat (v vector_l2_ops) WITH (lists = 4);
SET enable_seqscan = off;

-- A new index has no row until it is used.
SELECT count(*) FROM piramid_stat_indexes WHERE relname = 'st';

-- Three hnsw scans of 5 rows each; the ivfflat index is not used by them.
DROP INDEX st_ivf;
SELECT count(*) FROM (SELECT id FROM st ORDER BY v <-> '[1,2,3]' LIMIT 5) s;
SELECT count(*) FROM (SELECT id FROM st ORDER BY v <-> '[3,2,1]' LIMIT 5) s;
SELECT count(*) FROM (SELECT id FROM st ORDER BY v <-> '[0,0,0]' LIMIT 5) s;
SELECT indexrelname, access_method, scans, tuples_returned, inserts, vacuum_runs,
       distance_computations > 0 AS computed, nodes_visited > 0 AS visited,
       pages_read > 0 AS read, scope IN ('backend', 'cluster') AS scope_ok
FROM piramid_stat_indexes WHERE relname = 'st';

-- Inserts, a VACUUM (ANALYZE alone does not count), and a rescanned scan: a LATERAL join runs
-- the index scan once per outer row.
INSERT INTO st SELECT i, ARRAY[i, 0, 0]::vector FROM generate_series(501, 510) i;
ANALYZE st;
VACUUM st;
SELECT count(*) FROM generate_series(1, 4) g,
    LATERAL (SELECT id FROM st ORDER BY v <-> ARRAY[g, 0, 0]::vector LIMIT 2) s;
SELECT scans, tuples_returned, inserts, vacuum_runs
FROM piramid_stat_indexes WHERE indexrelname = 'st_hnsw';

-- A cursor counts the rows it moved over, when it is closed.
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM st ORDER BY v <-> '[5,5,5]';
MOVE FORWARD 7 IN c;
CLOSE c;
COMMIT;
SELECT scans, tuples_returned FROM piramid_stat_indexes WHERE indexrelname = 'st_hnsw';

-- ivfflat: probes = lists reads every list (4 nodes visited) and computes 4 center distances
-- plus one per entry.
CREATE INDEX st_ivf ON st USING ivfflat (v vector_l2_ops) WITH (lists = 4);
DROP INDEX st_hnsw;
SET ivfflat.probes = 4;
SELECT count(*) FROM (SELECT id FROM st ORDER BY v <-> '[1,1,1]' LIMIT 3) s;
INSERT INTO st VALUES (600, '[9,9,9]');
VACUUM st;
SELECT indexrelname, access_method, scans, tuples_returned, nodes_visited,
       distance_computations, inserts, vacuum_runs
FROM piramid_stat_indexes WHERE relname = 'st';

-- REINDEX starts the index from zero.
REINDEX INDEX st_ivf;
SELECT count(*) FROM piramid_stat_indexes WHERE indexrelname = 'st_ivf';

-- Any role may read the view; only a superuser (or a role granted EXECUTE) may reset.
SELECT count(*) FROM (SELECT id FROM st ORDER BY v <-> '[1,1,1]' LIMIT 3) s;
CREATE ROLE piramid_stat_reader;
GRANT SELECT ON st TO piramid_stat_reader;
SET ROLE piramid_stat_reader;
SELECT scans, tuples_returned FROM piramid_stat_indexes WHERE indexrelname = 'st_ivf';
SELECT piramid_stat_reset();
RESET ROLE;
SELECT piramid_stat_reset();
SELECT count(*) FROM piramid_stat_indexes WHERE relname = 'st';

DROP TABLE st;
DROP ROLE piramid_stat_reader;
