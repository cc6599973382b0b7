-- hnsw scans in the query shapes applications use: several scans alive in one query (LATERAL,
-- UNION ALL, MergeAppend, self-joins, subqueries in the select list, CTEs), rescans, scroll
-- cursors, generic prepared plans, PL/pgSQL loops under an open cursor, a table with 100
-- hnsw-indexed partitions, inserts while a cursor is open. Each result is compared in SQL with
-- the same query run with index scans disabled. Where a search's answer must be exact, its
-- index has at most 1,000 elements and hnsw.ef_search is 1000, so the search sees the whole
-- graph; larger tables are read to the end by iterative scans.
CREATE SCHEMA hnsw_qs;
SET search_path = hnsw_qs, public;
-- plans with sequential scans disabled cost past jit_above_cost: no JIT, no parallel plans
SET jit = off;
SET max_parallel_workers_per_gather = 0;
-- rows_of(q, exact): the rows q returns, in order, as text; through the index (sequential
-- scans off) or exactly (index scans off)
CREATE FUNCTION rows_of(q text, exact boolean) RETURNS text[] LANGUAGE plpgsql
SET enable_seqscan = on SET enable_indexscan = on SET enable_bitmapscan = on AS $$
DECLARE r text[];
BEGIN
  IF exact THEN
    PERFORM set_config('enable_indexscan', 'off', true);
    PERFORM set_config('enable_bitmapscan', 'off', true);
  ELSE
    PERFORM set_config('enable_seqscan', 'off', true);
  END IF;
  EXECUTE format('SELECT coalesce(array_agg(x::text ORDER BY n), ''{}'') FROM '
                 '(SELECT row_number() OVER () AS n, s AS x FROM (%s) s) t', q) INTO r;
  RETURN r;
END $$;
-- the number of lines of q's plan (planned as rows_of(q, exact) plans it) matching pattern
CREATE FUNCTION plan_lines(q text, pattern text DEFAULT 'Index Scan using', exact boolean DEFAULT false)
RETURNS int LANGUAGE plpgsql
SET enable_seqscan = on SET enable_indexscan = on SET enable_bitmapscan = on AS $$
DECLARE line text; n int := 0;
BEGIN
  IF exact THEN
    PERFORM set_config('enable_indexscan', 'off', true);
    PERFORM set_config('enable_bitmapscan', 'off', true);
  ELSE
    PERFORM set_config('enable_seqscan', 'off', true);
  END IF;
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    IF line ~ pattern THEN n := n + 1; END IF;
  END LOOP;
  RETURN n;
END $$;
-- knn_check(q, ordered): q through the index against q computed exactly; ordered compares the
-- sequences, otherwise the multisets of rows. Differences are shown as NOTICEs.
CREATE FUNCTION knn_check(q text, ordered boolean DEFAULT true) RETURNS text LANGUAGE plpgsql AS $$
DECLARE got text[]; want text[]; i int := 1;
BEGIN
  IF plan_lines(q, 'Index Scan using', true) <> 0 THEN RAISE EXCEPTION 'the exact plan uses an index: %', q; END IF;
  got := rows_of(q, false);
  want := rows_of(q, true);
  IF NOT ordered THEN
    got := ARRAY(SELECT x FROM unnest(got) x ORDER BY x);
    want := ARRAY(SELECT x FROM unnest(want) x ORDER BY x);
  END IF;
  IF got IS DISTINCT FROM want THEN
    WHILE got[i] IS NOT DISTINCT FROM want[i] AND i <= cardinality(want) LOOP i := i + 1; END LOOP;
    RAISE NOTICE 'first difference at row %: index % rows %, exact % rows %', i,
      cardinality(got), got[i:i + 4], cardinality(want), want[i:i + 4];
  END IF;
  RETURN format('%s index scan(s), %s rows, %s', plan_lines(q), cardinality(got),
                CASE WHEN got = want THEN 'same as exact' ELSE 'DIFFERENT' END);
END $$;
-- the ids q returns (its only column), computed exactly
CREATE FUNCTION exact_ids(q text) RETURNS int[] LANGUAGE plpgsql
SET enable_seqscan = on SET enable_indexscan = off SET enable_bitmapscan = off AS $$
DECLARE r int[];
BEGIN
  EXECUTE format('SELECT coalesce(array_agg(x ORDER BY n), ''{}'') FROM '
                 '(SELECT row_number() OVER () AS n, s.* FROM (%s) s) t(n, x)', q) INTO r;
  RETURN r;
END $$;
SELECT setseed(0.5);
CREATE TABLE qa (id int, v vector(8));
INSERT INTO qa SELECT i, ARRAY(SELECT (random() * 2 - 1)::real + i * 0 FROM generate_series(1, 8))::vector
FROM generate_series(1, 1000) i;
CREATE TABLE qb (id int, v vector(8));
INSERT INTO qb SELECT i, ARRAY(SELECT (random() * 2 - 1)::real + i * 0 FROM generate_series(1, 8))::vector
FROM generate_series(1, 600) i;
-- query vectors
CREATE TABLE qq (qid int, v vector(8));
INSERT INTO qq SELECT i, ARRAY(SELECT (random() * 2 - 1)::real + i * 0 FROM generate_series(1, 8))::vector
FROM generate_series(1, 12) i;
CREATE INDEX qa_l2 ON qa USING hnsw (v vector_l2_ops);
CREATE INDEX qa_ip ON qa USING hnsw (v vector_ip_ops);
CREATE INDEX qb_l2 ON qb USING hnsw (v vector_l2_ops);
CREATE INDEX qb_cos ON qb USING hnsw (v vector_cosine_ops);
SET hnsw.ef_search = 1000;
SET enable_seqscan = off;

---- LATERAL: the inner scan is rescanned with a new query vector for every outer row
SELECT knn_check($$
  SELECT q.qid, x.id FROM qq q
  CROSS JOIN LATERAL (SELECT id FROM qa ORDER BY qa.v <-> q.v LIMIT 5) x $$);
SELECT knn_check($$
  SELECT q.qid, x.ids FROM qq q
  CROSS JOIN LATERAL (SELECT array_agg(id) AS ids FROM (SELECT id FROM qb ORDER BY qb.v <=> q.v LIMIT 7) s) x $$);
-- an outer index scan stays open while inner scans over another index, and over its own
-- index, run for each of its rows
SELECT knn_check($$
  SELECT a.id, x.ids FROM (SELECT id, v FROM qa ORDER BY v <-> '[0.1,0.2,0.3,0.4,-0.1,-0.2,-0.3,-0.4]' LIMIT 30) a
  CROSS JOIN LATERAL (SELECT array_agg(id) AS ids FROM (SELECT id FROM qb ORDER BY qb.v <=> a.v LIMIT 4) s) x $$, false);
SELECT knn_check($$
  SELECT a.id, x.ids, y.ids FROM (SELECT id, v FROM qa ORDER BY v <#> '[1,0,1,0,1,0,1,0]' LIMIT 20) a
  CROSS JOIN LATERAL (SELECT array_agg(id) AS ids FROM (SELECT id FROM qa a2 ORDER BY a2.v <-> a.v LIMIT 3) s) x
  CROSS JOIN LATERAL (SELECT array_agg(id) AS ids FROM (SELECT id FROM qb ORDER BY qb.v <-> a.v LIMIT 3) s) y $$, false);
-- LEFT JOIN LATERAL whose inner side finds nothing for some outer rows
SELECT knn_check($$
  SELECT q.qid, x.id FROM qq q
  LEFT JOIN LATERAL (SELECT id FROM qa WHERE qa.id < q.qid * 10 ORDER BY qa.v <-> q.v LIMIT 3) x ON true $$, false);

---- UNION ALL: scans one after another (Append), and interleaved (MergeAppend)
SELECT knn_check($$
  (SELECT 'qa l2' AS src, id FROM qa ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10)
  UNION ALL (SELECT 'qb cos', id FROM qb ORDER BY v <=> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10)
  UNION ALL (SELECT 'qa ip', id FROM qa ORDER BY v <#> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10)
  UNION ALL (SELECT 'qa l2 again', id FROM qa ORDER BY v <-> '[-0.5,0.5,-0.5,0.5,-0.5,0.5,-0.5,0.5]' LIMIT 10) $$);
SELECT plan_lines($$
  SELECT src, id FROM (SELECT 'qa' AS src, id, v FROM qa UNION ALL SELECT 'qb', id, v FROM qb) u
  ORDER BY v <-> '[0.2,-0.2,0.2,-0.2,0.2,-0.2,0.2,-0.2]' LIMIT 25 $$, 'Merge Append') AS merge_appends;
SELECT knn_check($$
  SELECT src, id FROM (SELECT 'qa' AS src, id, v FROM qa UNION ALL SELECT 'qb', id, v FROM qb) u
  ORDER BY v <-> '[0.2,-0.2,0.2,-0.2,0.2,-0.2,0.2,-0.2]' LIMIT 25 $$);
-- two scans of the same index pulled alternately by a MergeAppend (each row comes twice, with
-- equal distances: the distances are compared in order, the rows as a set)
SELECT plan_lines($$
  SELECT id FROM (SELECT id, v FROM qa UNION ALL SELECT -id, v FROM qa) u
  ORDER BY v <-> '[0.3,0.1,-0.3,-0.1,0.3,0.1,-0.3,-0.1]' LIMIT 40 $$, 'Merge Append') AS merge_appends;
SELECT knn_check($$
  SELECT id FROM (SELECT id, v FROM qa UNION ALL SELECT -id, v FROM qa) u
  ORDER BY v <-> '[0.3,0.1,-0.3,-0.1,0.3,0.1,-0.3,-0.1]' LIMIT 40 $$, false),
       knn_check($$
  SELECT v <-> '[0.3,0.1,-0.3,-0.1,0.3,0.1,-0.3,-0.1]' AS d FROM (SELECT id, v FROM qa UNION ALL SELECT -id, v FROM qa) u
  ORDER BY v <-> '[0.3,0.1,-0.3,-0.1,0.3,0.1,-0.3,-0.1]' LIMIT 40 $$);

---- self-joins and CTEs: two scans of one index in one query
SELECT knn_check($$
  SELECT a.id FROM (SELECT id FROM qa ORDER BY v <-> '[0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1]' LIMIT 60) a
  JOIN (SELECT id FROM qa ORDER BY v <-> '[0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2]' LIMIT 60) b USING (id) $$, false);
SELECT knn_check($$
  SELECT a.id, b.id FROM (SELECT id, v FROM qa ORDER BY v <-> '[0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1]' LIMIT 15) a,
                         (SELECT id, v FROM qa ORDER BY v <#> '[0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1]' LIMIT 15) b
  WHERE a.v <-> b.v < 1.2 $$, false);
SELECT knn_check($$
  WITH near AS MATERIALIZED (SELECT id, v FROM qa ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 20)
  SELECT n.id, (SELECT count(*) FROM near m WHERE m.v <-> n.v < 0.8) AS close_ones,
         (SELECT id FROM qa ORDER BY qa.v <#> n.v LIMIT 1) AS best_ip
  FROM near n $$);
-- a semi-join against a scan's rows
SELECT knn_check($$
  SELECT id FROM qb WHERE id IN (SELECT id FROM qa ORDER BY v <-> '[0.4,0.4,0.4,0.4,0,0,0,0]' LIMIT 50) $$, false);

---- subqueries in the select list (SubPlans rescanned per row)
SELECT knn_check($$
  SELECT a.id,
         (SELECT b.id FROM qb b ORDER BY b.v <-> a.v LIMIT 1) AS nearest_qb,
         ARRAY(SELECT c.id FROM qa c ORDER BY c.v <#> a.v LIMIT 3) AS best_ip,
         (SELECT max(id) FROM (SELECT id FROM qb ORDER BY qb.v <=> a.v LIMIT 5) s) AS max_cos5
  FROM (SELECT id, v FROM qa ORDER BY v <-> '[0.7,0,0.7,0,0.7,0,0.7,0]' LIMIT 15) a $$);
SELECT knn_check($$
  SELECT qid, (SELECT id FROM qa ORDER BY qa.v <-> q.v LIMIT 1) AS nn,
         (SELECT id FROM qa ORDER BY qa.v <-> q.v LIMIT 1 OFFSET 3) AS fourth
  FROM qq q $$);

---- rescans of a scan that went through several batches: an iterative scan with a filter and
---- a small ef_search, inner side of a nested loop, LIMIT covering every matching row
SET hnsw.ef_search = 10;
SET hnsw.iterative_scan = relaxed_order;
SET hnsw.max_scan_tuples = 1000000;
SELECT knn_check($$
  SELECT q.qid, x.id FROM qq q
  CROSS JOIN LATERAL (SELECT id FROM qa WHERE qa.id % 12 = q.qid - 1 ORDER BY qa.v <-> q.v LIMIT 1000) x $$, false);
-- rescanned after a few rows only (the LIMIT stops it early)
SET hnsw.iterative_scan = strict_order;
SELECT knn_check($$
  SELECT q.qid, x.cnt FROM qq q
  CROSS JOIN LATERAL (SELECT count(*) AS cnt FROM (SELECT id FROM qa WHERE qa.id % 3 = 0 ORDER BY qa.v <-> q.v LIMIT 2) s) x $$);
RESET hnsw.iterative_scan;
RESET hnsw.max_scan_tuples;
SET hnsw.ef_search = 1000;

---- cursors
BEGIN;
-- a cursor declared without SCROLL over an hnsw scan cannot go backward: a clear error
DECLARE c_fwd CURSOR FOR SELECT id FROM qa ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 10;
MOVE 2 IN c_fwd;
FETCH BACKWARD 1 FROM c_fwd;
ROLLBACK;
BEGIN;
DECLARE c_fwd CURSOR FOR SELECT id FROM qa ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 10;
MOVE 3 IN c_fwd;
FETCH ABSOLUTE 1 FROM c_fwd;
ROLLBACK;
-- a SCROLL cursor gets a Materialize node above the scan and moves anywhere
EXPLAIN (COSTS OFF) DECLARE c SCROLL CURSOR FOR
  SELECT id FROM qa ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 10;
-- scroll_check(q): the same moves on a SCROLL cursor over the index and one over the exact plan
CREATE FUNCTION scroll_check(q text) RETURNS text LANGUAGE plpgsql
SET enable_seqscan = on SET enable_indexscan = on SET enable_bitmapscan = on AS $$
DECLARE ci refcursor := 'scroll_index'; ce refcursor := 'scroll_exact';
        a record; b record; moves int := 0; same boolean := true;
BEGIN
  PERFORM set_config('enable_seqscan', 'off', true);
  OPEN ci SCROLL FOR EXECUTE q;
  PERFORM set_config('enable_seqscan', 'on', true);
  PERFORM set_config('enable_indexscan', 'off', true);
  OPEN ce SCROLL FOR EXECUTE q;
  FOR step IN 1..11 LOOP
    CASE step
      WHEN 1 THEN FETCH NEXT FROM ci INTO a; FETCH NEXT FROM ce INTO b;
      WHEN 2 THEN FETCH RELATIVE 4 FROM ci INTO a; FETCH RELATIVE 4 FROM ce INTO b;
      WHEN 3 THEN FETCH PRIOR FROM ci INTO a; FETCH PRIOR FROM ce INTO b;
      WHEN 4 THEN FETCH BACKWARD FROM ci INTO a; FETCH BACKWARD FROM ce INTO b;
      WHEN 5 THEN FETCH ABSOLUTE 17 FROM ci INTO a; FETCH ABSOLUTE 17 FROM ce INTO b;
      WHEN 6 THEN FETCH LAST FROM ci INTO a; FETCH LAST FROM ce INTO b;
      WHEN 7 THEN FETCH RELATIVE -6 FROM ci INTO a; FETCH RELATIVE -6 FROM ce INTO b;
      WHEN 8 THEN FETCH FIRST FROM ci INTO a; FETCH FIRST FROM ce INTO b;
      WHEN 9 THEN FETCH ABSOLUTE -2 FROM ci INTO a; FETCH ABSOLUTE -2 FROM ce INTO b;
      WHEN 10 THEN FETCH ABSOLUTE 3 FROM ci INTO a; FETCH ABSOLUTE 3 FROM ce INTO b;
      ELSE FETCH NEXT FROM ci INTO a; FETCH NEXT FROM ce INTO b;
    END CASE;
    moves := moves + 1;
    IF a::text IS DISTINCT FROM b::text THEN
      RAISE NOTICE 'move %: index %, exact %', step, a, b;
      same := false;
    END IF;
  END LOOP;
  CLOSE ci;
  CLOSE ce;
  RETURN format('%s moves, %s', moves, CASE WHEN same THEN 'same as exact' ELSE 'DIFFERENT' END);
END $$;
SELECT scroll_check($$SELECT id, v <-> '[0,0,0,0,0,0,0,0]' AS d FROM qa ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 20$$);
SELECT scroll_check($$SELECT id FROM qb ORDER BY v <=> '[1,2,3,4,5,6,7,8]' LIMIT 25$$);
SELECT scroll_check($$SELECT q.qid, x.id FROM qq q CROSS JOIN LATERAL (SELECT id FROM qa ORDER BY qa.v <-> q.v LIMIT 2) x$$);
-- a WITH HOLD cursor survives its transaction (it is materialized at COMMIT)
BEGIN;
DECLARE c_hold CURSOR WITH HOLD FOR SELECT id FROM qa ORDER BY v <-> '[0.5,0,0,0,0,0,0,-0.5]' LIMIT 8;
FETCH 3 FROM c_hold;
COMMIT;
FETCH ALL FROM c_hold;
CLOSE c_hold;
SELECT exact_ids($$SELECT id FROM qa ORDER BY v <-> '[0.5,0,0,0,0,0,0,-0.5]' LIMIT 8$$) AS exact;

---- generic prepared plans: one plan, different query vectors and limits
SET plan_cache_mode = force_generic_plan;
PREPARE knn(vector, int) AS
  SELECT row_number() OVER () AS n, id FROM (SELECT id FROM qa ORDER BY v <-> $1 LIMIT $2) s;
EXPLAIN (COSTS OFF) EXECUTE knn('[0,0,0,0,0,0,0,0]', 5);
CREATE TEMP TABLE got1 AS EXECUTE knn('[0,0,0,0,0,0,0,0]', 5);
CREATE TEMP TABLE got2 AS EXECUTE knn('[0.9,-0.9,0.9,-0.9,0.9,-0.9,0.9,-0.9]', 30);
SELECT v AS q4 FROM qq WHERE qid = 4 \gset
CREATE TEMP TABLE got3 AS EXECUTE knn(:'q4', 12);
SELECT (SELECT array_agg(id ORDER BY n) FROM got1)
         = exact_ids($$SELECT id FROM qa ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 5$$) AS q1_exact,
       (SELECT array_agg(id ORDER BY n) FROM got2)
         = exact_ids($$SELECT id FROM qa ORDER BY v <-> '[0.9,-0.9,0.9,-0.9,0.9,-0.9,0.9,-0.9]' LIMIT 30$$) AS q2_exact,
       (SELECT array_agg(id ORDER BY n) FROM got3)
         = exact_ids($$SELECT id FROM qa ORDER BY v <-> (SELECT v FROM qq WHERE qid = 4) LIMIT 12$$) AS q3_exact;
-- a generic plan with the scan on the inner side of a join
PREPARE knn_join(int) AS
  SELECT row_number() OVER () AS n, q.qid, x.id FROM qq q
  CROSS JOIN LATERAL (SELECT id FROM qb ORDER BY qb.v <=> q.v LIMIT $1) x WHERE q.qid <= 6;
CREATE TEMP TABLE got4 AS EXECUTE knn_join(3);
SELECT count(*) AS rows,
       array_agg(id ORDER BY n) = exact_ids($$SELECT x.id FROM qq q
         CROSS JOIN LATERAL (SELECT id FROM qb ORDER BY qb.v <=> q.v LIMIT 3) x WHERE q.qid <= 6$$) AS same_as_exact
FROM got4;
-- PL/pgSQL caches generic plans of its queries too
CREATE FUNCTION knn_fn(q vector, k int) RETURNS SETOF int LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY SELECT id FROM qa ORDER BY v <-> q LIMIT k;
END $$;
SELECT bool_and(ARRAY(SELECT knn_fn(q.v, 6))
                = exact_ids(format('SELECT id FROM qa ORDER BY v <-> %L LIMIT 6', q.v))) AS all_exact
FROM qq q;
DEALLOCATE knn;
DEALLOCATE knn_join;
RESET plan_cache_mode;

---- PL/pgSQL: a FOR loop's open cursor over an index scan while the loop body runs other index
---- scans (static and dynamic) on the same and on other indexes
CREATE FUNCTION loop_check(q vector) RETURNS text LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE r record; outer_ids int[] := '{}'; got int[]; want int[]; bad int := 0; n int := 0;
BEGIN
  FOR r IN SELECT id, v FROM qa ORDER BY v <-> q LIMIT 40 LOOP
    outer_ids := outer_ids || r.id;
    n := n + 1;
    got := ARRAY(SELECT id FROM qb ORDER BY qb.v <=> r.v LIMIT 5);
    want := ARRAY(SELECT id FROM qb ORDER BY (qb.v <=> r.v) + 0 LIMIT 5);
    IF got IS DISTINCT FROM want THEN bad := bad + 1; END IF;
    got := ARRAY(SELECT id FROM qa ORDER BY qa.v <#> r.v LIMIT 3);
    want := ARRAY(SELECT id FROM qa ORDER BY (qa.v <#> r.v) + 0 LIMIT 3);
    IF got IS DISTINCT FROM want THEN bad := bad + 1; END IF;
    EXECUTE 'SELECT array_agg(id) FROM (SELECT id FROM qa ORDER BY v <-> $1 LIMIT 4) s' INTO got USING r.v;
    want := ARRAY(SELECT id FROM qa ORDER BY (qa.v <-> r.v) + 0 LIMIT 4);
    IF got IS DISTINCT FROM want THEN bad := bad + 1; END IF;
  END LOOP;
  want := ARRAY(SELECT id FROM qa ORDER BY (v <-> q) + 0 LIMIT 40);
  RETURN format('%s outer rows, outer %s, %s inner mismatches', n,
                CASE WHEN outer_ids = want THEN 'same as exact' ELSE 'DIFFERENT' END, bad);
END $$;
SELECT loop_check('[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]');
SELECT loop_check(v) FROM qq WHERE qid = 7;
-- an explicit cursor, FETCHed while other scans run, with the inner scans' plans checked too
SELECT plan_lines($$SELECT id FROM qb ORDER BY qb.v <=> '[1,1,1,1,1,1,1,1]' LIMIT 5$$) AS inner_scans,
       plan_lines($$SELECT id FROM qb ORDER BY (qb.v <=> '[1,1,1,1,1,1,1,1]') + 0 LIMIT 5$$) AS exact_scans;
CREATE FUNCTION cursor_loop_check() RETURNS text LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE c CURSOR FOR SELECT id, v FROM qb ORDER BY v <-> '[-0.5,-0.5,-0.5,-0.5,0.5,0.5,0.5,0.5]' LIMIT 25;
        r record; ids int[] := '{}'; bad int := 0;
BEGIN
  OPEN c;
  LOOP
    FETCH c INTO r;
    EXIT WHEN NOT FOUND;
    ids := ids || r.id;
    IF ARRAY(SELECT id FROM qa ORDER BY qa.v <-> r.v LIMIT 2)
       IS DISTINCT FROM ARRAY(SELECT id FROM qa ORDER BY (qa.v <-> r.v) + 0 LIMIT 2) THEN
      bad := bad + 1;
    END IF;
  END LOOP;
  CLOSE c;
  RETURN format('%s rows, %s, %s inner mismatches', cardinality(ids),
    CASE WHEN ids = ARRAY(SELECT id FROM qb ORDER BY (v <-> '[-0.5,-0.5,-0.5,-0.5,0.5,0.5,0.5,0.5]') + 0 LIMIT 25)
         THEN 'same as exact' ELSE 'DIFFERENT' END, bad);
END $$;
SELECT cursor_loop_check();

---- a partitioned table: 100 partitions, each with its own hnsw index
CREATE TABLE pt (id int, v vector(4)) PARTITION BY RANGE (id);
DO $$ BEGIN
  FOR i IN 0..99 LOOP
    EXECUTE format('CREATE TABLE pt_%s PARTITION OF pt FOR VALUES FROM (%s) TO (%s)', i, i * 20, (i + 1) * 20);
  END LOOP;
END $$;
INSERT INTO pt SELECT i, ARRAY(SELECT (random() * 2 - 1)::real + i * 0 FROM generate_series(1, 4))::vector
FROM generate_series(0, 1799) i;
CREATE INDEX pt_idx ON pt USING hnsw (v vector_l2_ops);
-- the last 200 rows arrive after the indexes exist, one at a time
DO $$ BEGIN
  FOR i IN 1800..1999 LOOP
    INSERT INTO pt SELECT i, ARRAY(SELECT (random() * 2 - 1)::real + i * 0 FROM generate_series(1, 4))::vector;
  END LOOP;
END $$;
SELECT plan_lines($$SELECT id FROM pt ORDER BY v <-> '[0.1,0.2,0.3,0.4]' LIMIT 10$$, 'Merge Append') AS merge_appends;
SELECT knn_check($$SELECT id FROM pt ORDER BY v <-> '[0.1,0.2,0.3,0.4]' LIMIT 10$$);
SELECT knn_check($$SELECT id, v <-> '[-0.9,0.9,-0.9,0.9]' AS d FROM pt ORDER BY v <-> '[-0.9,0.9,-0.9,0.9]' LIMIT 100$$);
-- pruned to a few partitions
SELECT knn_check($$SELECT id FROM pt WHERE id BETWEEN 500 AND 559 ORDER BY v <-> '[0,0,0,0]' LIMIT 7$$);
-- LATERAL into the partitioned table: 100 scans rescanned per outer row
SELECT knn_check($$
  SELECT a.id, x.ids FROM (SELECT id, v FROM pt ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 5) a
  CROSS JOIN LATERAL (SELECT array_agg(id) AS ids FROM (SELECT id FROM pt p2 ORDER BY p2.v <-> a.v LIMIT 4) s) x $$, false);
-- a generic plan with run-time partition pruning
SET plan_cache_mode = force_generic_plan;
PREPARE pknn(int, int, vector) AS
  SELECT row_number() OVER () AS n, id FROM (SELECT id FROM pt WHERE id >= $1 AND id < $2 ORDER BY v <-> $3 LIMIT 6) s;
CREATE TEMP TABLE got5 AS EXECUTE pknn(100, 400, '[0.3,0.3,-0.3,-0.3]');
CREATE TEMP TABLE got6 AS EXECUTE pknn(0, 2000, '[-0.3,0.3,-0.3,0.3]');
SELECT (SELECT array_agg(id ORDER BY n) FROM got5)
         = exact_ids($$SELECT id FROM pt WHERE id >= 100 AND id < 400 ORDER BY v <-> '[0.3,0.3,-0.3,-0.3]' LIMIT 6$$) AS pruned_exact,
       (SELECT array_agg(id ORDER BY n) FROM got6)
         = exact_ids($$SELECT id FROM pt ORDER BY v <-> '[-0.3,0.3,-0.3,0.3]' LIMIT 6$$) AS all_exact;
DEALLOCATE pknn;
RESET plan_cache_mode;

---- inserts while a cursor over an index scan is open in the same transaction: the cursor
---- keeps its snapshot (the new rows are not its rows) while the index grows under it
CREATE TABLE qc AS SELECT * FROM qa;
CREATE INDEX qc_l2 ON qc USING hnsw (v vector_l2_ops);
BEGIN;
DECLARE c_ins CURSOR FOR SELECT id FROM qc ORDER BY v <-> '[0.25,0.25,0.25,0.25,0.25,0.25,0.25,0.25]' LIMIT 12;
FETCH 4 FROM c_ins;
-- 2,000 rows right next to the query vector, 30 copies of the nearest row, 970 far rows
INSERT INTO qc SELECT 10000 + i, ARRAY(SELECT 0.25 + (random() - 0.5) / 100 + i * 0 FROM generate_series(1, 8))::vector
FROM generate_series(1, 2000) i;
INSERT INTO qc SELECT 20000 + i, (SELECT v FROM qc WHERE id <= 1000 ORDER BY (v <-> '[0.25,0.25,0.25,0.25,0.25,0.25,0.25,0.25]') + 0 LIMIT 1)
FROM generate_series(1, 30) i;
INSERT INTO qc SELECT 30000 + i, ARRAY(SELECT 5 + random() + i * 0 FROM generate_series(1, 8))::vector
FROM generate_series(1, 970) i;
FETCH ALL FROM c_ins;
COMMIT;
SELECT exact_ids($$SELECT id FROM qc WHERE id <= 1000 ORDER BY v <-> '[0.25,0.25,0.25,0.25,0.25,0.25,0.25,0.25]' LIMIT 12$$) AS exact;
-- the same in PL/pgSQL, compared in SQL (on fresh copies of qa: the cursor's search runs
-- before the first insert, over 1,000 elements)
CREATE TABLE qe1 AS SELECT * FROM qa;
CREATE INDEX qe1_l2 ON qe1 USING hnsw (v vector_l2_ops);
CREATE TABLE qe2 AS SELECT * FROM qa;
CREATE INDEX qe2_l2 ON qe2 USING hnsw (v vector_l2_ops);
CREATE FUNCTION insert_under_cursor_check(tbl text, q vector) RETURNS text LANGUAGE plpgsql
SET enable_seqscan = off AS $$
DECLARE c refcursor; r record; ids int[] := '{}'; want int[];
BEGIN
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %I ORDER BY (v <-> $1) + 0 LIMIT 15) s', tbl)
    INTO want USING q;
  OPEN c FOR EXECUTE format('SELECT id FROM %I ORDER BY v <-> $1 LIMIT 15', tbl) USING q;
  FOR i IN 1..15 LOOP
    FETCH c INTO r;
    EXIT WHEN NOT FOUND;
    ids := ids || r.id;
    -- after every fetched row, new rows next to q (some of them copies of q)
    EXECUTE format('INSERT INTO %I SELECT 100000 + $2 * 100 + j, CASE WHEN j %% 5 = 0 THEN $1 ELSE '
                   'ARRAY(SELECT x + (random() - 0.5) / 1000 FROM unnest($1::real[]) x)::vector END '
                   'FROM generate_series(1, 60) j', tbl) USING q, i;
  END LOOP;
  CLOSE c;
  RETURN format('%s rows, %s', cardinality(ids), CASE WHEN ids = want THEN 'same as exact' ELSE 'DIFFERENT' END);
END $$;
SELECT insert_under_cursor_check('qe1', '[-0.25,-0.25,-0.25,-0.25,-0.25,-0.25,-0.25,-0.25]');
SELECT insert_under_cursor_check('qe2', '[0.6,-0.6,0.6,-0.6,0.6,-0.6,0.6,-0.6]');
-- an iterative scan (a small ef_search: it searches again at every few rows) under a cursor
-- while inserts make its index grow to many times its size: the cursor returns every row the
-- table had at OPEN, once
CREATE TABLE qd AS SELECT * FROM qa WHERE id <= 200;
CREATE INDEX qd_l2 ON qd USING hnsw (v vector_l2_ops);
CREATE FUNCTION grow_under_cursor_check() RETURNS text LANGUAGE plpgsql
SET enable_seqscan = off SET hnsw.ef_search = 10 SET hnsw.iterative_scan = relaxed_order
SET hnsw.max_scan_tuples = 1000000 AS $$
DECLARE c refcursor; r record; ids int[] := '{}'; n int := 0;
BEGIN
  OPEN c FOR SELECT id FROM qd ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 100000;
  LOOP
    FETCH c INTO r;
    EXIT WHEN NOT FOUND;
    ids := ids || r.id;
    n := n + 1;
    IF n IN (5, 50, 120) THEN
      INSERT INTO qd SELECT 10000 * n + i, ARRAY(SELECT random()::real - 0.5 + i * 0 FROM generate_series(1, 8))::vector
      FROM generate_series(1, 1500) i;
    END IF;
  END LOOP;
  CLOSE c;
  RETURN format('%s rows, %s', cardinality(ids),
    CASE WHEN ARRAY(SELECT x FROM unnest(ids) x ORDER BY x) = ARRAY(SELECT id FROM qd WHERE id <= 200 ORDER BY id)
         THEN 'the rows of the table at OPEN' ELSE 'DIFFERENT' END);
END $$;
SELECT grow_under_cursor_check();
SELECT count(*) FROM qd;
-- afterwards every inserted row is found through the index
SET hnsw.iterative_scan = relaxed_order;
SET hnsw.max_scan_tuples = 1000000;
SELECT count(*) AS rows, count(DISTINCT id) AS ids, (SELECT count(*) FROM qc) AS live
FROM (SELECT id FROM qc ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 100000) s;
SELECT count(*) AS rows, count(DISTINCT id) AS ids, (SELECT count(*) FROM qe1) AS live
FROM (SELECT id FROM qe1 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 100000) s;
RESET hnsw.iterative_scan;
RESET hnsw.max_scan_tuples;
SELECT * FROM piramid_hnsw_verify('qc_l2');
SELECT * FROM piramid_hnsw_verify('qe1_l2');
SELECT * FROM piramid_hnsw_verify('qa_l2');
SELECT * FROM piramid_hnsw_verify('qb_cos');
RESET hnsw.ef_search;
RESET enable_seqscan;
RESET jit;
RESET max_parallel_workers_per_gather;
DROP SCHEMA hnsw_qs CASCADE;
