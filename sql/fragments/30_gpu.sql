
-- Batched exact k-NN through the distance engines (CPU, or the GPU when piramid.gpu allows).
-- Not STRICT: NULL arguments get a clear error instead of an empty result.
CREATE FUNCTION piramid_knn(tbl regclass, col name, queries vector[], k integer,
                            metric text DEFAULT 'l2')
    RETURNS TABLE (query_no integer, row_ctid tid, distance double precision)
    AS 'MODULE_PATHNAME', 'piramid_knn' LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 1000;

-- The GPU setup as this backend sees it (probes the plugin and devices on first call).
-- Administrative: it loads the CUDA plugin and reports paths and devices; not for PUBLIC.
CREATE FUNCTION piramid_gpu_info(OUT setting text, OUT plugin text, OUT plugin_path text,
                                 OUT status text, OUT reason text, OUT device_count integer,
                                 OUT devices text, OUT last_engine text)
    AS 'MODULE_PATHNAME', 'piramid_gpu_info' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
REVOKE ALL ON FUNCTION piramid_gpu_info() FROM PUBLIC;
