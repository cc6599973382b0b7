
-- hnsw access method (pgvector-compatible names and support-function layout)

CREATE FUNCTION hnswhandler(internal) RETURNS index_am_handler
    AS 'MODULE_PATHNAME', 'hnswhandler' LANGUAGE C;

CREATE ACCESS METHOD hnsw TYPE INDEX HANDLER hnswhandler;

COMMENT ON ACCESS METHOD hnsw IS 'hnsw index access method';

CREATE OPERATOR CLASS vector_l2_ops
    FOR TYPE vector USING hnsw AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_l2_squared_distance(vector, vector);

CREATE OPERATOR CLASS vector_ip_ops
    FOR TYPE vector USING hnsw AS
    OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_negative_inner_product(vector, vector);

CREATE OPERATOR CLASS vector_cosine_ops
    FOR TYPE vector USING hnsw AS
    OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_negative_inner_product(vector, vector),
    FUNCTION 2 vector_norm(vector);

CREATE OPERATOR CLASS vector_l1_ops
    FOR TYPE vector USING hnsw AS
    OPERATOR 1 <+> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 l1_distance(vector, vector);

-- Structure check of an hnsw index: one row per problem found, none when the index is sound.
CREATE FUNCTION piramid_hnsw_verify(index regclass) RETURNS TABLE (problem text)
    AS 'MODULE_PATHNAME', 'piramid_hnsw_verify' LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
REVOKE ALL ON FUNCTION piramid_hnsw_verify(regclass) FROM PUBLIC;

-- Per-index statistics: elements, deleted elements, pages, levels, entry point.
-- Not for PUBLIC (it reads every page and tells the table's row count); a role granted EXECUTE
-- must also be superuser or in pg_read_all_stats, or able to SELECT from the table (checked in C).
CREATE FUNCTION piramid_hnsw_stats(index regclass,
    OUT elements bigint, OUT deleted bigint, OUT free_slots bigint, OUT pages bigint,
    OUT max_level integer, OUT entry_level integer, OUT dims integer, OUT m integer,
    OUT ef_construction integer, OUT metric text)
    AS 'MODULE_PATHNAME', 'piramid_hnsw_stats' LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
REVOKE ALL ON FUNCTION piramid_hnsw_stats(regclass) FROM PUBLIC;
