-- Who may call what: administrative functions (page readers, the GPU probe, the test hook) are
-- not executable by PUBLIC, and piramid_hnsw_stats tells row counts only to a role that could
-- count the rows itself.
CREATE TABLE priv_t (id int, v vector(2), secret text);
INSERT INTO priv_t SELECT i, format('[%s,%s]', i, i % 3)::vector, 's' FROM generate_series(1, 40) i;
CREATE INDEX priv_idx ON priv_t USING hnsw (v vector_l2_ops);
CREATE ROLE regress_piramid_user;
CREATE ROLE regress_piramid_monitor;
GRANT pg_read_all_stats TO regress_piramid_monitor;

-- no function of the extension that reads pages or loads code is executable by PUBLIC
SELECT p.proname, has_function_privilege('regress_piramid_user', p.oid, 'EXECUTE') AS public_execute
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
WHERE e.extname = 'piramid' AND p.proname LIKE 'piramid%'
ORDER BY 1;

SET ROLE regress_piramid_user;
\set VERBOSITY sqlstate
SELECT piramid_selftest_raise('fine');
SELECT * FROM piramid_gpu_info();
SELECT * FROM piramid_hnsw_verify('priv_idx');
SELECT * FROM piramid_hnsw_stats('priv_idx');
\set VERBOSITY default
SELECT piramid_selftest_raise('fine');
SELECT elements FROM piramid_hnsw_stats('priv_idx');
-- ordinary use needs nothing special
SELECT piramid_simd_isa() IS NOT NULL AS isa;
SELECT '[1,2]'::vector <-> '[2,2]' AS distance;
RESET ROLE;

-- EXECUTE alone is not enough: the caller must be able to read the table
GRANT EXECUTE ON FUNCTION piramid_hnsw_stats(regclass) TO regress_piramid_user, regress_piramid_monitor;
SET ROLE regress_piramid_user;
SELECT elements FROM piramid_hnsw_stats('priv_idx');
RESET ROLE;
-- SELECT on one column is enough (SELECT count(*) would work too)
GRANT SELECT (id) ON priv_t TO regress_piramid_user;
SET ROLE regress_piramid_user;
SELECT elements, deleted, metric FROM piramid_hnsw_stats('priv_idx');
SELECT count(*) FROM priv_t;
RESET ROLE;
REVOKE SELECT (id) ON priv_t FROM regress_piramid_user;
GRANT SELECT ON priv_t TO regress_piramid_user;
SET ROLE regress_piramid_user;
SELECT elements FROM piramid_hnsw_stats('priv_idx');
RESET ROLE;
-- row-level security: count(*) would see fewer rows, so the stats are refused
ALTER TABLE priv_t ENABLE ROW LEVEL SECURITY;
CREATE POLICY priv_few ON priv_t FOR SELECT USING (id <= 3);
SET ROLE regress_piramid_user;
SELECT count(*) FROM priv_t;
SELECT elements FROM piramid_hnsw_stats('priv_idx');
RESET ROLE;
-- pg_read_all_stats sees every table's counters anyway
SET ROLE regress_piramid_monitor;
SELECT elements FROM piramid_hnsw_stats('priv_idx');
SELECT count(*) FROM priv_t;
RESET ROLE;
-- a table that is not an hnsw index, without privileges on it
SET ROLE regress_piramid_user;
SELECT elements FROM piramid_hnsw_stats('priv_t');
RESET ROLE;

-- piramid_hnsw_verify, once granted, works (it is meant for administrators)
GRANT EXECUTE ON FUNCTION piramid_hnsw_verify(regclass) TO regress_piramid_monitor;
SET ROLE regress_piramid_monitor;
SELECT count(*) AS problems FROM piramid_hnsw_verify('priv_idx');
RESET ROLE;

DROP TABLE priv_t;
REVOKE ALL ON FUNCTION piramid_hnsw_stats(regclass) FROM regress_piramid_user, regress_piramid_monitor;
REVOKE ALL ON FUNCTION piramid_hnsw_verify(regclass) FROM regress_piramid_monitor;
DROP ROLE regress_piramid_user;
DROP ROLE regress_piramid_monitor;
