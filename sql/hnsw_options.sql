-- hnsw reloptions, GUCs and their bounds; indexability checks
CREATE TABLE t_opt (id int, v vector(3), u vector);
-- defaults and explicit options read back from pg_class as ordinary reloptions
CREATE INDEX t_opt_default ON t_opt USING hnsw (v vector_l2_ops);
CREATE INDEX t_opt_custom ON t_opt USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64);
SELECT relname, reloptions FROM pg_class WHERE relname LIKE 't_opt_%' ORDER BY relname;
SELECT m, ef_construction, dims, metric FROM piramid_hnsw_stats('t_opt_custom');
-- bounds
CREATE INDEX ON t_opt USING hnsw (v vector_l2_ops) WITH (m = 1);
CREATE INDEX ON t_opt USING hnsw (v vector_l2_ops) WITH (m = 101);
CREATE INDEX ON t_opt USING hnsw (v vector_l2_ops) WITH (ef_construction = 3);
CREATE INDEX ON t_opt USING hnsw (v vector_l2_ops) WITH (ef_construction = 1001);
CREATE INDEX ON t_opt USING hnsw (v vector_l2_ops) WITH (m = 40, ef_construction = 64);
CREATE INDEX ON t_opt USING hnsw (v vector_l2_ops) WITH (m = 'many');
CREATE INDEX ON t_opt USING hnsw (v vector_l2_ops) WITH (foo = 1);
CREATE INDEX t_opt_edge ON t_opt USING hnsw (v vector_l2_ops) WITH (m = 2, ef_construction = 4);
CREATE INDEX t_opt_edge2 ON t_opt USING hnsw (v vector_l2_ops) WITH (m = 100, ef_construction = 1000);
-- ALTER INDEX SET validates too
ALTER INDEX t_opt_edge SET (m = 0);
-- column without dimensions, too many dimensions, more than one column
CREATE INDEX ON t_opt USING hnsw (u vector_l2_ops);
CREATE TABLE t_big (v vector(2000));
CREATE INDEX ON t_big USING hnsw (v vector_l2_ops);
CREATE INDEX ON t_big USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 8);
CREATE INDEX ON t_opt USING hnsw (v vector_l2_ops, v vector_l2_ops);
CREATE INDEX ON t_opt USING hnsw (id);
-- GUCs
SHOW hnsw.ef_search;
SHOW hnsw.iterative_scan;
SHOW hnsw.max_scan_tuples;
SHOW hnsw.scan_mem_multiplier;
SET hnsw.ef_search = 0;
SET hnsw.ef_search = 1001;
SET hnsw.ef_search = 1;
SET hnsw.ef_search = 1000;
SET hnsw.iterative_scan = 'sometimes';
SET hnsw.iterative_scan = relaxed_order;
SET hnsw.iterative_scan = strict_order;
SET hnsw.iterative_scan = off;
SET hnsw.max_scan_tuples = 0;
SET hnsw.max_scan_tuples = 1;
SET hnsw.scan_mem_multiplier = 0.5;
SET hnsw.scan_mem_multiplier = 1001;
SET hnsw.scan_mem_multiplier = 2;
SET hnsw.unknown_setting = 1;
SHOW piramid.hnsw_build_method;
SET piramid.hnsw_build_method = 'gpu';
SET piramid.hnsw_build_method = engine;
SET piramid.hnsw_build_method = insert;
RESET ALL;
-- the verifier is not for everyone, and only for hnsw indexes
SELECT has_function_privilege('public', 'piramid_hnsw_verify(regclass)', 'execute') AS public_can_verify;
CREATE INDEX t_opt_btree ON t_opt (id);
SELECT * FROM piramid_hnsw_verify('t_opt_btree');
DROP TABLE t_opt, t_big;
