-- @EXTENSION@ install script (generated from sql/fragments/*.sql by make; the same script
-- installs piramid and its opt-in alias "vector", only the name differs)
\echo Use "CREATE EXTENSION @EXTENSION@" to load this file. \quit

-- piramid and "vector" (pgvector, or piramid installed under that name) define the same types,
-- operators and access methods: a database holds one of them.
DO $$
DECLARE
    other text;
BEGIN
    SELECT extname INTO other FROM pg_catalog.pg_extension
     WHERE extname IN ('piramid', 'vector') AND extname <> '@EXTENSION@';
    IF other IS NOT NULL THEN
        RAISE EXCEPTION 'extension "%" is already installed in this database', other
            USING ERRCODE = 'duplicate_object',
                  DETAIL = 'piramid and "vector" (pgvector, or piramid installed as "vector") '
                           'define the same types, operators and index methods.',
                  HINT = format('Use extension "%s", or drop it before creating "%s".', other,
                                '@EXTENSION@');
    END IF;
END
$$;

-- Test hook: raises C++ exceptions of each kind through the guard (sql/00_guard.sql).
-- Not for PUBLIC: it exists to exercise error paths.
CREATE FUNCTION piramid_selftest_raise(kind text) RETURNS integer
    AS 'MODULE_PATHNAME', 'piramid_selftest_raise' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
REVOKE ALL ON FUNCTION piramid_selftest_raise(text) FROM PUBLIC;

CREATE FUNCTION piramid_simd_isa() RETURNS text
    AS 'MODULE_PATHNAME', 'piramid_simd_isa' LANGUAGE C STRICT STABLE PARALLEL SAFE;
