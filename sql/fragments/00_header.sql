-- piramid 0.1.0 install script (generated from sql/fragments/*.sql by make)
\echo Use "CREATE EXTENSION piramid" to load this file. \quit

CREATE FUNCTION piramid_selftest_raise(kind text) RETURNS integer
    AS 'MODULE_PATHNAME', 'piramid_selftest_raise' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

CREATE FUNCTION piramid_simd_isa() RETURNS text
    AS 'MODULE_PATHNAME', 'piramid_simd_isa' LANGUAGE C STRICT STABLE PARALLEL SAFE;
