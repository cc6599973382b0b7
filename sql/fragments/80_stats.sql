
-- Activity counters per hnsw and ivfflat index of this database (README, "Observability").
-- With piramid in shared_preload_libraries they count every backend's work since the server
-- started or piramid_stat_reset() (scope 'cluster'); without it, this backend's (scope 'backend').
CREATE FUNCTION piramid_stat_indexes_internal(
    OUT indexrelid oid, OUT scans bigint, OUT tuples_returned bigint,
    OUT distance_computations bigint, OUT nodes_visited bigint, OUT pages_read bigint,
    OUT inserts bigint, OUT vacuum_runs bigint, OUT scope text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'piramid_stat_indexes_internal' LANGUAGE C STRICT VOLATILE
    PARALLEL RESTRICTED;

CREATE VIEW piramid_stat_indexes AS
    SELECT s.indexrelid, t.oid AS relid, n.nspname AS schemaname, t.relname,
           c.relname AS indexrelname, a.amname AS access_method, s.scans, s.tuples_returned,
           s.distance_computations, s.nodes_visited, s.pages_read, s.inserts, s.vacuum_runs,
           s.scope
    FROM piramid_stat_indexes_internal() s
    JOIN pg_catalog.pg_class c ON c.oid = s.indexrelid
    JOIN pg_catalog.pg_index i ON i.indexrelid = s.indexrelid
    JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_am a ON a.oid = c.relam;

GRANT SELECT ON piramid_stat_indexes TO PUBLIC;

-- Sets every counter back to zero (every database's, with shared_preload_libraries).
CREATE FUNCTION piramid_stat_reset() RETURNS void
    AS 'MODULE_PATHNAME', 'piramid_stat_reset' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
REVOKE ALL ON FUNCTION piramid_stat_reset() FROM PUBLIC;
