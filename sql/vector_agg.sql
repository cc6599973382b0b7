-- vector aggregates avg and sum: NULL handling, empty input, errors, parallel plans, and direct
-- calls of the state functions with crafted states.

SELECT avg(v), sum(v) FROM (VALUES ('[1,2,3]'::vector), ('[3,5,7]')) t(v);
SELECT avg(v), sum(v) FROM (VALUES ('[1,2,3]'::vector), (NULL), ('[3,5,7]')) t(v);
SELECT avg(v), sum(v) FROM (VALUES (NULL::vector)) t(v);
SELECT avg(v) IS NULL AS avg_null, sum(v) IS NULL AS sum_null FROM unnest(ARRAY[]::vector[]) v;
SELECT pg_typeof(avg(v)), pg_typeof(sum(v)) FROM (VALUES ('[1]'::vector)) t(v);
SELECT g, avg(v), sum(v) FROM (VALUES (1, '[1,1]'::vector), (1, '[2,4]'), (2, '[-1,0.5]'))
  t(g, v) GROUP BY g ORDER BY g;
-- avg sums in double precision: no float cancellation
SELECT avg(v) FROM (VALUES ('[1e+30]'::vector), ('[1]'), ('[-1e+30]')) t(v);
-- large values: the average of big values stays in range, a sum beyond float4 does not
SELECT avg(v) FROM (VALUES ('[3e+38]'::vector), ('[3e+38]')) t(v);
SELECT sum(v) FROM (VALUES ('[3e+38]'::vector), ('[3e+38]')) t(v);
-- mixed dimensions
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[3]')) t(v);
SELECT sum(v) FROM (VALUES ('[1,2]'::vector), ('[3]')) t(v);
-- as a window aggregate (states are reused frame after frame)
SELECT i, avg(v) OVER w, sum(v) OVER w
  FROM (VALUES (1, '[1,10]'::vector), (2, '[2,20]'), (3, '[3,30]'), (4, '[4,40]')) t(i, v)
  WINDOW w AS (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) ORDER BY i;

-- parallel aggregation: Partial Aggregate in workers, combined with vector_combine/vector_add
CREATE TABLE vec_par (v vector(3));
INSERT INTO vec_par SELECT ARRAY[i % 10, i % 7, -(i % 3)]::vector FROM generate_series(1, 30000) i;
ANALYZE vec_par;
SELECT avg(v) AS serial_avg, sum(v) AS serial_sum FROM vec_par \gset
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM vec_par;
SELECT avg(v), sum(v), avg(v) = :'serial_avg' AS same_avg, sum(v) = :'serial_sum' AS same_sum
  FROM vec_par;
RESET parallel_leader_participation;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
DROP TABLE vec_par;

-- the state functions called directly: states are {count, sum_1, ..., sum_dim}
SELECT vector_accum('{0}', '[1,2]'), vector_accum('{2,4,6}', '[1,2]');
SELECT vector_combine('{0}', '{0}'), vector_combine('{0}', '{1,2}'), vector_combine('{2,4,6}', '{0}'),
       vector_combine('{1,1,1}', '{2,3,5}');
SELECT vector_avg('{0}') IS NULL AS no_rows, vector_avg('{4,2,6}');
-- a state with no rows may carry sums (pgvector's vector_accum adds to them); states combine by
-- their dimensions, and two empty states combine to an empty one
SELECT vector_accum('{0,0,0}', '[1,2]') AS zero_sums, vector_accum('{0,1,2}', '[1,2]') AS with_sums,
       vector_combine('{0,5}', '{1,2}') AS combined, vector_avg('{0,5}') IS NULL AS no_rows;
-- crafted states are rejected with an error, never read out of bounds
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  msg text;
  det text;
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ': ' || msg || coalesce(' (' || nullif(det, '') || ')', '');
END $$;
SELECT q, pg_temp.try(q) AS result FROM (VALUES
  ($$SELECT vector_accum('{1}', '[1]')$$),
  ($$SELECT vector_accum('{}', '[1]')$$),
  ($$SELECT vector_accum('{{1,2},{3,4}}', '[1]')$$),
  ($$SELECT vector_accum('{1,NULL}', '[1]')$$),
  ($$SELECT vector_accum('{-1,2}', '[1]')$$),
  ($$SELECT vector_accum('{1.5,2}', '[1]')$$),
  ($$SELECT vector_accum('{NaN,2}', '[1]')$$),
  ($$SELECT vector_accum('{Infinity,2}', '[1]')$$),
  ($$SELECT vector_accum('{1,Infinity}', '[1]')$$),
  ($$SELECT vector_accum('{0,0}', '[1,2,3]')$$),
  ($$SELECT vector_accum('{1,2,3}', '[1]')$$),
  ($$SELECT vector_accum(array_prepend(1::float8, array_fill(0::float8, ARRAY[16001])), '[1]')$$),
  ($$SELECT vector_combine('{1,2}', '{1,2,3}')$$),
  ($$SELECT vector_combine('{1}', '{1,2}')$$),
  ($$SELECT vector_combine('{1,2}', '{-3,2}')$$),
  ($$SELECT vector_combine('{1,1e308}', '{1,1e308}')$$),
  ($$SELECT vector_avg('{1}')$$),
  ($$SELECT vector_avg('{1,1e300}')$$),
  ($$SELECT vector_combine('{0}', (SELECT array_agg(n)::float8[] FROM generate_series(1, 16002) n))$$),
  ($$SELECT vector_avg(array_agg(n)) FROM generate_series(1, 16002) n$$),
  ($$SELECT vector_avg('[0:1]={1,2}')$$)
) t(q);
