-- halfvec: distances, functions, arithmetic, comparisons and the btree opclass, casts and
-- aggregates. Results are checked against exact arithmetic done in numeric on the elements'
-- values (halfvec::real[] is exact), on inputs where float accumulation is itself exact, and
-- against hand-computed half encodings (halfvec_send) where rounding to half matters.

-- ---- distances on small examples -------------------------------------------------------------
SELECT '[0,0]'::halfvec <-> '[3,4]' AS l2, l2_distance('[1,2,3]'::halfvec, '[3,2,1]') AS l2_fn,
       halfvec_l2_squared_distance('[0,0]', '[3,4]') AS l2sq;
SELECT '[1,2,3]'::halfvec <#> '[4,5,6]' AS neg_ip, inner_product('[1,2,3]'::halfvec, '[4,5,6]') AS ip,
       halfvec_negative_inner_product('[1,2,3]', '[4,5,6]') AS neg_ip_fn;
SELECT '[1,2]'::halfvec <=> '[2,4]' AS same_dir, '[1,1]'::halfvec <=> '[-1,-1]' AS opposite,
       '[1,0]'::halfvec <=> '[0,1]' AS orthogonal, cosine_distance('[3,0]'::halfvec, '[3,4]') AS cos_fn;
SELECT '[1,2]'::halfvec <=> '[0,0]' AS zero_is_nan, cosine_distance('[0,0]'::halfvec, '[0,0]') AS both_zero;
SELECT '[0,0]'::halfvec <+> '[3,-4]' AS l1, l1_distance('[1,2,3]'::halfvec, '[3,2,1]') AS l1_fn;
-- spherical distance acos(a.b) / pi (inner product clamped to [-1, 1])
SELECT halfvec_spherical_distance('[1,0]', '[1,0]') AS same,
       halfvec_spherical_distance('[1,0]', '[0,1]') AS orthogonal,
       halfvec_spherical_distance('[1,0]', '[-1,0]') AS opposite,
       halfvec_spherical_distance('[1,0]', '[0.5,0.5]') * 3 AS third_times_3,
       halfvec_spherical_distance('[2,0]', '[2,0]') AS clamped_above,
       halfvec_spherical_distance('[2,0]', '[-2,0]') AS clamped_below;
SELECT pg_typeof('[1]'::halfvec <-> '[2]'), pg_typeof('[1]'::halfvec <#> '[2]'),
       pg_typeof('[1]'::halfvec <=> '[2]'), pg_typeof('[1]'::halfvec <+> '[2]');
-- operators are commutative
SELECT '[1,2]'::halfvec <-> '[5,-1]' = '[5,-1]'::halfvec <-> '[1,2]' AS l2_comm,
       '[1,2]'::halfvec <#> '[5,-1]' = '[5,-1]'::halfvec <#> '[1,2]' AS ip_comm,
       '[1,2]'::halfvec <=> '[5,-1]' = '[5,-1]'::halfvec <=> '[1,2]' AS cos_comm,
       '[1,2]'::halfvec <+> '[5,-1]' = '[5,-1]'::halfvec <+> '[1,2]' AS l1_comm;
-- accumulation is in float4 (as pgvector), then widened: 4096^2 + 1 = 16777217 is not a float4
-- and rounds to even (16777216); double accumulation would give 16777217
SELECT inner_product('[4096,1]'::halfvec, '[4096,1]') AS ip_float_sum,
       halfvec_l2_squared_distance('[4096,1]', '[0,0]') AS l2sq_float_sum,
       l1_distance('[2048,0.0001]'::halfvec, '[-2048,0]') AS l1_float_sum,
       l2_norm('[4096,1]'::halfvec) = sqrt(16777217::float8) AS norm_sums_in_double;
-- the largest values: 65504^2 * 2 fits a float4, and the distance between the extremes too
SELECT '[65504,65504]'::halfvec <-> '[-65504,-65504]' AS l2_extremes,
       sqrt(2 * 131008::float8 ^ 2) AS expected,
       '[65504,-65504]'::halfvec <#> '[65504,65504]' AS ip_cancels,
       '[65504]'::halfvec <=> '[65504]' AS cos_extreme;

-- ---- distances against exact arithmetic ------------------------------------------------------
-- Integer halves in [-100, 100] (50 dims) and quarter halves in [-100, 100] (16 dims): every
-- product and every partial sum is exact in float4, so each distance equals the exact value
-- computed in numeric from the elements (l2_distance: the double square root of it; cosine:
-- 1 - ab / sqrt(aa * bb) in double from the exact sums).
CREATE TEMP TABLE half_rand AS
SELECT i, kind,
       ARRAY(SELECT CASE WHEN kind = 'int' THEN ((i * 37 + j * 11 + i * j) % 201) - 100
                         ELSE (((i * 53 + j * 29 + i * j * 7) % 801) - 400) / 4.0 END
               FROM generate_series(1, CASE WHEN kind = 'int' THEN 50 ELSE 16 END) j)::halfvec AS v
  FROM generate_series(1, 20) i, (VALUES ('int'), ('quarter')) k(kind);
CREATE TEMP TABLE half_pairs AS
SELECT a.kind, a.i AS ia, b.i AS ib, a.v AS a, b.v AS b,
       (SELECT sum((x::numeric - y::numeric) ^ 2) FROM unnest(a.v::real[], b.v::real[]) u(x, y)) AS l2sq,
       (SELECT sum(x::numeric * y::numeric) FROM unnest(a.v::real[], b.v::real[]) u(x, y)) AS ab,
       (SELECT sum(x::numeric * x::numeric) FROM unnest(a.v::real[]) u(x)) AS aa,
       (SELECT sum(y::numeric * y::numeric) FROM unnest(b.v::real[]) u(y)) AS bb,
       (SELECT sum(abs(x::numeric - y::numeric)) FROM unnest(a.v::real[], b.v::real[]) u(x, y)) AS l1
  FROM half_rand a JOIN half_rand b ON a.kind = b.kind;
SELECT kind, count(*) AS pairs,
       count(*) FILTER (WHERE halfvec_l2_squared_distance(a, b) = l2sq) AS l2sq_exact,
       count(*) FILTER (WHERE a <-> b = sqrt(l2sq::float8)) AS l2_exact,
       count(*) FILTER (WHERE inner_product(a, b) = ab AND a <#> b = -ab
                          AND halfvec_negative_inner_product(a, b) = -ab) AS ip_exact,
       count(*) FILTER (WHERE a <+> b = l1) AS l1_exact,
       count(*) FILTER (WHERE a <=> b = 1 - greatest(-1, least(1, ab::float8 / sqrt(aa::float8 * bb::float8))))
         AS cos_exact,
       count(*) FILTER (WHERE l2_norm(a) = sqrt(aa::float8)) AS norm_exact,
       count(*) FILTER (WHERE a <-> b = a::vector <-> b::vector AND a <#> b = a::vector <#> b::vector
                          AND a <=> b = a::vector <=> b::vector AND a <+> b = a::vector <+> b::vector)
         AS same_as_vector,
       max(l2sq) AS max_l2sq, max(abs(ab)) AS max_abs_ip
  FROM half_pairs GROUP BY kind ORDER BY kind;

-- ---- functions -------------------------------------------------------------------------------
SELECT vector_dims('[1,2,3]'::halfvec), vector_dims(array_fill(0, ARRAY[16000])::halfvec);
SELECT l2_norm('[3,4]'::halfvec), l2_norm('[0,0]'::halfvec), l2_norm('[-2]'::halfvec),
       l2_norm('[65504,65504]'::halfvec) = sqrt(2 * 65504::float8 ^ 2) AS norm_extreme,
       l2_norm('[6e-8]'::halfvec) = 2::float8 ^ -24 AS norm_subnormal;
-- l2_normalize: x / |x| in double, rounded to float4 then to half; 0.6 -> 1229/2048 (0x38cd),
-- 0.8 -> 1638/2048 (0x3a66), 1/sqrt(2) -> 1448/2048 (0x39a8)
SELECT l2_normalize('[3,4]'::halfvec), halfvec_send(l2_normalize('[3,4]'::halfvec)),
       l2_normalize('[0,-5]'::halfvec), l2_normalize('[0,0]'::halfvec),
       l2_normalize('[65504,65504]'::halfvec), l2_normalize('[6e-8,0]'::halfvec);
SELECT count(*) AS rows,
       count(*) FILTER (WHERE halfvec_send(l2_normalize(v)) = halfvec_send(
           (SELECT array_agg(x / n ORDER BY j) FROM (
              SELECT x, j, sqrt(sum(x::float8 ^ 2) OVER ()) AS n
                FROM unnest(v::real[]) WITH ORDINALITY u(x, j)) s)::halfvec)) AS normalize_ok,
       count(*) FILTER (WHERE abs(l2_norm(l2_normalize(v)) - 1) < 1e-3) AS unit_norm
  FROM half_rand;
-- subvector(v, start, count): 1-based, clipped to the vector
SELECT subvector('[1,2,3,4,5]'::halfvec, 1, 3), subvector('[1,2,3,4,5]'::halfvec, 3, 2),
       subvector('[1,2,3,4,5]'::halfvec, 4, 10), subvector('[1,2,3,4,5]'::halfvec, -1, 3),
       subvector('[1,2,3,4,5]'::halfvec, 5, 1), pg_typeof(subvector('[1]'::halfvec, 1, 1));
SELECT halfvec_send(subvector('[-0,6e-8,65504]'::halfvec, 1, 3)) = halfvec_send('[-0,6e-8,65504]')
       AS bits_kept;
-- binary_quantize: 1 where the element is > 0 (-0 and 0 are not; the smallest subnormal is)
SELECT binary_quantize('[1,-1,0,2,3,4,5,6,7,-1]'::halfvec), binary_quantize('[0.5]'::halfvec),
       binary_quantize('[-0,0,6e-8,-6e-8]'::halfvec), pg_typeof(binary_quantize('[1]'::halfvec));
SELECT length(binary_quantize(array_fill(1, ARRAY[16000])::halfvec)) AS bits,
       bit_count(binary_quantize(array_fill(1, ARRAY[16000])::halfvec)) AS ones;
SELECT count(*) FILTER (WHERE binary_quantize(v) = binary_quantize(v::vector)) AS same_as_vector
  FROM half_rand;

-- ---- arithmetic: computed in float4, rounded to the nearest half ----------------------------
SELECT '[1,2,3]'::halfvec + '[4,5,6]' AS add, '[1,2,3]'::halfvec - '[4,5,6]' AS sub,
       '[1,2,3]'::halfvec * '[4,5,6]' AS mul, '[1,2]'::halfvec || '[3]' AS concat;
SELECT halfvec_add('[1]', '[2]'), halfvec_sub('[1]', '[2]'), halfvec_mul('[2]', '[3]'),
       halfvec_concat('[1]', '[2]'), pg_typeof(halfvec_add('[1]', '[2]'));
-- 2048 + 1 = 2049 ties to even 2048 (0x6800); 2048 + 3 = 2051 -> 2052 (0x6802); 1 + 0.0004 ->
-- 1 (below the tie 1 + 2^-11); 65504 + 8 = 65512 rounds back to 65504 (0x7bff), below the
-- overflow threshold 65520; -0 + -0 = -0 (0x8000); 1 + -1 = +0
SELECT halfvec_send('[2048,2048,1,65504,-0,1]'::halfvec + '[1,3,0.0004,8,-0,-1]') AS add_bits,
       halfvec_send('[2048,2048,-0,1]'::halfvec - '[-1,-3,0,1]') AS sub_bits;
-- 0.001 * 0.001: 0.0010004044 * 0.0010004044 = 1.0008e-06 -> 17 * 2^-24 (a subnormal, 0x0011);
-- 256 * 255.875 = 65504 exactly; -2 * 0 = -0
SELECT halfvec_send('[0.001,256,-2]'::halfvec * '[0.001,255.875,0]') AS mul_bits;
-- element-wise results equal the float4 result of the exact operation, rounded to half
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE halfvec_send(a + b) = halfvec_send((SELECT array_agg((x::float8 + y)::real)
                          FROM unnest(a::real[], b::real[]) u(x, y))::halfvec)) AS add_ok,
       count(*) FILTER (WHERE halfvec_send(a - b) = halfvec_send((SELECT array_agg((x::float8 - y)::real)
                          FROM unnest(a::real[], b::real[]) u(x, y))::halfvec)) AS sub_ok,
       count(*) FILTER (WHERE halfvec_send(a * b) = halfvec_send((SELECT array_agg((x::float8 * y)::real)
                          FROM unnest(a::real[], b::real[]) u(x, y))::halfvec)) AS mul_ok,
       count(*) FILTER (WHERE (a || b)::real[] = a::real[] || b::real[]) AS concat_ok
  FROM half_pairs;
SELECT vector_dims('[1,2]'::halfvec || array_fill(0, ARRAY[15998])::halfvec) AS concat_16000;

-- ---- comparison operators and the btree opclass ----------------------------------------------
-- lexicographic by element value, then shorter first; -0 = 0
SELECT a, b, a < b AS lt, a <= b AS le, a = b AS eq, a <> b AS ne, a >= b AS ge, a > b AS gt,
       halfvec_cmp(a, b) AS cmp
  FROM (VALUES ('[1,2,3]'::halfvec, '[1,2,3]'::halfvec), ('[1,2,3]', '[1,2,4]'),
               ('[1,3]', '[1,2,4]'), ('[1,2]', '[1,2,3]'), ('[0]', '[-0]'), ('[-1]', '[1]'),
               ('[6e-8]', '[0]'), ('[65504]', '[-65504]'), ('[1.0009766]', '[1]')) t(a, b);
SELECT halfvec_lt('[1]', '[2]'), halfvec_le('[1]', '[1]'), halfvec_eq('[1]', '[1]'),
       halfvec_ne('[1]', '[1]'), halfvec_ge('[1]', '[2]'), halfvec_gt('[2]', '[1]');
-- values that differ before rounding are equal after it
SELECT '[1.0001]'::halfvec = '[1]' AS rounded_equal, '[2049]'::halfvec = '[2048]' AS tie_equal;
CREATE TEMP TABLE half_bt (v halfvec);
INSERT INTO half_bt VALUES ('[3]'), ('[1,2]'), ('[1]'), ('[1,2,3]'), ('[-1,5]'), ('[1,1]'),
                           ('[1,2]'), ('[6e-8]'), ('[-65504]');
SELECT v FROM half_bt ORDER BY v;
SELECT v, count(*) FROM half_bt GROUP BY v ORDER BY v DESC;
SELECT count(DISTINCT v) AS distinct_values FROM half_bt;
CREATE INDEX half_bt_idx ON half_bt (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT v FROM half_bt WHERE v > '[1,1]' ORDER BY v;
SELECT v FROM half_bt WHERE v > '[1,1]' ORDER BY v;
SELECT v FROM half_bt WHERE v = '[1,2]';
SELECT v FROM half_bt WHERE v = '[1.0001,2.0001]';
RESET enable_seqscan;
CREATE UNIQUE INDEX half_bt_uq ON half_bt (v);
DELETE FROM half_bt WHERE ctid = (SELECT max(ctid) FROM half_bt WHERE v = '[1,2]');
CREATE UNIQUE INDEX half_bt_uq ON half_bt (v);
INSERT INTO half_bt VALUES ('[-0]');
\set VERBOSITY sqlstate
INSERT INTO half_bt VALUES ('[0]');
\set VERBOSITY default
SELECT v FROM half_bt WHERE v = '[0]';
-- the order agrees with the order of the same vectors as vector
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE halfvec_cmp(a, b) = vector_cmp(a::vector, b::vector)) AS same_order
  FROM half_pairs;

-- ---- casts -----------------------------------------------------------------------------------
-- vector -> halfvec is implicit (so mixed expressions resolve to the halfvec operators),
-- halfvec -> vector is an assignment cast, and exact
SELECT '[1,2]'::vector + '[0.5,0.5]'::halfvec AS mixed, pg_typeof('[1,2]'::vector + '[0.5,0.5]'::halfvec),
       '[3,4]'::vector <-> '[0,0]'::halfvec AS mixed_l2;
SELECT '[0.1,65519,6e-8,1e-8,-0]'::vector::halfvec AS rounded,
       halfvec_send('[0.1,65519,6e-8,1e-8,-0]'::vector::halfvec);
SELECT '[0.1,6e-8,65504]'::halfvec::vector AS exact,
       '[0.1,6e-8,65504]'::halfvec::vector = '[0.0999755859375,5.9604644775390625e-08,65504]'::vector
         AS exact_values;
SELECT vector_to_halfvec('[1,2]', -1, true), vector_to_halfvec('[1,2]', 2, false),
       halfvec_to_vector('[1,2]', -1, true), halfvec_to_vector('[1,2]', 2, false),
       halfvec('[1,2]', 2, false), '[1,2,3]'::vector::halfvec(3), '[1,2,3]'::halfvec::vector(3);
CREATE TEMP TABLE half_cast (h halfvec(2), v vector(2), r real[]);
INSERT INTO half_cast (h, v, r) VALUES ('[1.5,2.5]'::vector, '[0.1,3]'::halfvec, '[0.1,-2]'::halfvec);
SELECT h, pg_typeof(h), v, pg_typeof(v), r FROM half_cast;
-- halfvec -> real[] is an assignment cast only (vector -> real[] is implicit)
CREATE FUNCTION pg_temp.second(a real[]) RETURNS real LANGUAGE sql AS 'SELECT a[2]';
\set VERBOSITY sqlstate
SELECT pg_temp.second('[4,5,6]'::halfvec);
\set VERBOSITY default
SELECT pg_temp.second('[4,5,6]'::halfvec::real[]), halfvec_to_float4('[1,0.1]', -1, false);
-- arrays -> halfvec (assignment): each element to float4, then to the nearest half
SELECT '{1,2,3}'::int[]::halfvec, '{1.5,0.1}'::real[]::halfvec, '{1.5,-0.1}'::float8[]::halfvec,
       '{1.5,0.1}'::numeric[]::halfvec;
SELECT halfvec_send(ARRAY[2049, 65519, -65519]::halfvec) AS int_rounds,
       halfvec_send(ARRAY[1.00048828125, 6e-8, 1e-8]::float8[]::halfvec) AS float8_rounds,
       halfvec_send(ARRAY[1.0004882812509094947017729282379150390625, -0.0]::numeric[]::halfvec)
         AS numeric_two_steps,
       halfvec_send(ARRAY['-0'::real, 2.98023224e-8]::halfvec) AS real_rounds;
SELECT array_to_halfvec('{1,2}'::int[], -1, true), array_to_halfvec('{1,2}'::real[], 2, false),
       array_to_halfvec('{1,2}'::float8[], -1, false), array_to_halfvec('{1,2}'::numeric[], -1, false);
SELECT '{1,2,3}'::real[]::halfvec(3), ('{1,2,3}'::int[])::halfvec(3);
INSERT INTO half_cast (h) VALUES (ARRAY[1, 2]), (ARRAY[1.5, 2.5]::real[]), (ARRAY[3.5, 4]::float8[]),
                                 (ARRAY[5.25, 6]::numeric[]);
SELECT h FROM half_cast ORDER BY h;

-- ---- aggregates ------------------------------------------------------------------------------
SELECT avg(v), sum(v) FROM (VALUES ('[1,2,3]'::halfvec), ('[3,5,7]')) t(v);
SELECT avg(v), sum(v) FROM (VALUES ('[1,2,3]'::halfvec), (NULL), ('[3,5,7]')) t(v);
SELECT avg(v), sum(v) FROM (VALUES (NULL::halfvec)) t(v);
SELECT avg(v) IS NULL AS avg_null, sum(v) IS NULL AS sum_null FROM unnest(ARRAY[]::halfvec[]) v;
SELECT pg_typeof(avg(v)), pg_typeof(sum(v)) FROM (VALUES ('[1]'::halfvec)) t(v);
SELECT g, avg(v), sum(v) FROM (VALUES (1, '[1,1]'::halfvec), (1, '[2,4]'), (2, '[-1,0.5]'))
  t(g, v) GROUP BY g ORDER BY g;
-- avg sums in double precision and rounds once: (2048 + 1 + 1) / 3 = 683.33 -> 683.5 (spacing
-- 0.5 in [512, 1024)); sum adds halves, rounding each step: 2048 + 1 -> 2048 (tie to even)
SELECT avg(v), sum(v) FROM (VALUES ('[2048]'::halfvec), ('[1]'), ('[1]')) t(v);
-- the average of the largest values stays in range; (1 + 2 + 2) / 3 = 1.6667 -> 1707/1024
SELECT avg(v) FROM (VALUES ('[65504,-65504]'::halfvec), ('[65504,-65504]')) t(v);
SELECT avg(v), halfvec_send(avg(v)) FROM (VALUES ('[1]'::halfvec), ('[2]'), ('[2]')) t(v);
-- avg against exact arithmetic: the numeric mean rounded to float4, then to half
SELECT kind, halfvec_send(avg(v)) = halfvec_send((SELECT array_agg(m::real ORDER BY j) FROM (
           SELECT j, avg(x::numeric) AS m FROM half_rand r, unnest(r.v::real[]) WITH ORDINALITY u(x, j)
            WHERE r.kind = t.kind GROUP BY j) s)::halfvec) AS avg_exact
  FROM half_rand t GROUP BY kind ORDER BY kind;
-- as a window aggregate (states are reused frame after frame)
SELECT i, avg(v) OVER w, sum(v) OVER w
  FROM (VALUES (1, '[1,10]'::halfvec), (2, '[2,20]'), (3, '[3,30]'), (4, '[4,40]')) t(i, v)
  WINDOW w AS (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) ORDER BY i;
-- parallel aggregation: Partial Aggregate in workers, combined with halfvec_combine/halfvec_add
CREATE TABLE half_par (v halfvec(3));
INSERT INTO half_par SELECT ARRAY[i % 10, (i % 7) * 0.25, -(i % 3)]::halfvec FROM generate_series(1, 30000) i;
ANALYZE half_par;
SELECT avg(v) AS serial_avg FROM half_par \gset
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM half_par;
SELECT avg(v), avg(v) = :'serial_avg' AS same_avg FROM half_par;
RESET parallel_leader_participation;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
DROP TABLE half_par;
-- the state functions called directly: states are {count, sum_1, ..., sum_dim}
SELECT halfvec_accum('{0}', '[1,2]'), halfvec_accum('{2,4,6}', '[1,0.5]'),
       halfvec_accum('{0}', '[6e-8,65504]');
SELECT halfvec_combine('{0}', '{0}'), halfvec_combine('{0}', '{1,2}'), halfvec_combine('{1,1,1}', '{2,3,5}');
SELECT halfvec_avg('{0}') IS NULL AS no_rows, halfvec_avg('{4,2,6}'), halfvec_avg('{3,2}');
-- a state with no rows may carry sums (pgvector's halfvec_accum adds to them)
SELECT halfvec_accum('{0,0,0}', '[1,2]') AS zero_sums, halfvec_accum('{0,1,2}', '[1,2]') AS with_sums,
       halfvec_avg('{0,5}') IS NULL AS no_rows;
-- the state is avg(vector)'s: the vector state functions read halfvec's, and back
SELECT vector_avg(halfvec_accum(halfvec_accum('{0}', '[1,2]'), '[2,3]')) AS vector_of_halfvec,
       halfvec_avg(vector_accum(vector_accum('{0}', '[1,2]'), '[2,3]')) AS halfvec_of_vector;

-- until halfvec has its own hnsw operator classes, an expression index over the exact cast to
-- vector serves ORDER BY on a halfvec column
CREATE TABLE half_knn (id int, e halfvec(3));
INSERT INTO half_knn SELECT i, ARRAY[i % 7, i % 5, i % 3]::halfvec FROM generate_series(1, 500) i;
CREATE INDEX half_knn_idx ON half_knn USING hnsw ((e::vector(3)) vector_l2_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM half_knn ORDER BY e::vector(3) <-> '[3,1,2]' LIMIT 3;
-- the four rows equal to [3,1,2] (i = 101, 206, 311, 416); the nine at distance 0.5 from
-- [3,1.5,2]: those four and the five equal to [3,2,2] (i = 17, 122, 227, 332, 437)
SELECT array_agg(id ORDER BY id) AS ids FROM (
  SELECT id FROM half_knn ORDER BY e::vector(3) <-> '[3,1,2]' LIMIT 4) s;
SELECT array_agg(id ORDER BY id) AS ids FROM (
  SELECT id FROM half_knn ORDER BY e::vector(3) <-> '[3,1.5,2]' LIMIT 9) s;
RESET enable_seqscan;

DROP TABLE half_rand, half_pairs, half_bt, half_cast, half_knn;
