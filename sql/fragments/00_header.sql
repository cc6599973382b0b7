-- piramid 0.1.0 install script (generated from sql/fragments/*.sql by make)
\echo Use "CREATE EXTENSION piramid" to load this file. \quit

-- Test hook: raises C++ exceptions of each kind through the guard (sql/00_guard.sql).
-- Not for PUBLIC: it exists to exercise error paths.
CREATE FUNCTION piramid_selftest_raise(kind text) RETURNS integer
    AS 'MODULE_PATHNAME', 'piramid_selftest_raise' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
REVOKE ALL ON FUNCTION piramid_selftest_raise(text) FROM PUBLIC;

CREATE FUNCTION piramid_simd_isa() RETURNS text
    AS 'MODULE_PATHNAME', 'piramid_simd_isa' LANGUAGE C STRICT STABLE PARALLEL SAFE;
