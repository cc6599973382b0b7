-- Test hook (src/pg/am/selftest.cpp): strands n elements of an hnsw index the way a failed
-- in-link upkeep would, making them seeds (extra entry points) when `seed`; returns the number
-- of seeds. Not for PUBLIC: it exists to exercise that path.
CREATE FUNCTION piramid_hnsw_selftest_strand(index regclass, n integer, seed boolean)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'piramid_hnsw_selftest_strand' LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION piramid_hnsw_selftest_strand(regclass, integer, boolean) FROM PUBLIC;
