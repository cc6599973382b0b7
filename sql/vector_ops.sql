-- vector: operators, functions and casts. Inputs are chosen so that every printed value is
-- exact in float (independent of the SIMD kernel's summation order) or rounded in SQL.

-- distances (double precision results)
SELECT '[0,0]'::vector <-> '[3,4]' AS l2, l2_distance('[1,2,3]'::vector, '[3,2,1]')::numeric(20,12) AS l2b;
SELECT '[1,2,3]'::vector <#> '[4,5,6]' AS neg_ip, inner_product('[1,2,3]'::vector, '[4,5,6]') AS ip,
       vector_negative_inner_product('[1,2,3]', '[4,5,6]') AS neg_ip_fn;
SELECT '[1,2]'::vector <=> '[2,4]' AS same_dir, '[1,1]'::vector <=> '[-1,-1]' AS opposite,
       '[1,0]'::vector <=> '[0,1]' AS orthogonal, cosine_distance('[3,0]'::vector, '[3,4]') AS cos_fn;
SELECT '[1,2]'::vector <=> '[0,0]' AS zero_is_nan, cosine_distance('[0,0]'::vector, '[0,0]') AS both_zero;
SELECT '[0,0]'::vector <+> '[3,-4]' AS l1, l1_distance('[1,2,3]'::vector, '[3,2,1]') AS l1_fn;
SELECT vector_l2_squared_distance('[0,0]', '[3,4]') AS l2sq,
       l2_distance('[1e20]'::vector, '[-1e20]') AS l2_float_overflow;
SELECT pg_typeof('[1]'::vector <-> '[2]'), pg_typeof('[1]'::vector <#> '[2]'),
       pg_typeof('[1]'::vector <=> '[2]'), pg_typeof('[1]'::vector <+> '[2]');
-- larger vectors go through the same kernels (and any SIMD tail handling)
SELECT n, array_fill(1, ARRAY[n])::vector <-> array_fill(3, ARRAY[n])::vector AS l2,
       array_fill(1, ARRAY[n])::vector <#> array_fill(3, ARRAY[n])::vector AS neg_ip,
       array_fill(1, ARRAY[n])::vector <+> array_fill(3, ARRAY[n])::vector AS l1,
       array_fill(1, ARRAY[n])::vector <=> array_fill(3, ARRAY[n])::vector AS cos
  FROM unnest(ARRAY[1, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 16000]) n;
-- cosine distance stays in [0, 2] even where rounding would leave it
CREATE TEMP TABLE vec_rand AS
  SELECT i, (SELECT array_agg(sin(i * 1000 + j) * 10 ^ (i % 7 - 3))::vector
               FROM generate_series(1, 1 + i % 40) j) AS v
  FROM generate_series(1, 300) i;
SELECT bool_and(v <=> v BETWEEN 0 AND 2) AS self_in_range,
       bool_and(v <=> v < 1e-6) AS self_near_zero,
       bool_and(v <=> (v * array_fill(-1, ARRAY[vector_dims(v)])::vector) BETWEEN 0 AND 2)
         AS opposite_in_range,
       bool_and(v <=> (v * array_fill(-1, ARRAY[vector_dims(v)])::vector) > 2 - 1e-6)
         AS opposite_near_two,
       bool_and(v <=> (v + v) BETWEEN 0 AND 2) AS scaled_in_range
  FROM vec_rand;
-- operators and functions agree
SELECT bool_and(a.v <-> b.v = l2_distance(a.v, b.v)
            AND a.v <#> b.v = -inner_product(a.v, b.v)
            AND a.v <=> b.v IS NOT DISTINCT FROM cosine_distance(a.v, b.v)
            AND a.v <+> b.v = l1_distance(a.v, b.v)
            AND abs(vector_l2_squared_distance(a.v, b.v) - (a.v <-> b.v) ^ 2)
                <= 1e-6 * greatest(1, vector_l2_squared_distance(a.v, b.v))) AS consistent
  FROM vec_rand a JOIN vec_rand b ON vector_dims(a.v) = vector_dims(b.v);

-- arithmetic
SELECT '[1,2,3]'::vector + '[4,5,6]' AS add, '[1,2,3]'::vector - '[4,5,6]' AS sub,
       '[1,2,3]'::vector * '[4,5,-6]' AS mul, '[1,2]'::vector || '[3]' AS concat;
SELECT vector_add('[1]', '[2]'), vector_sub('[1]', '[2]'), vector_mul('[2]', '[3]'),
       vector_concat('[1]', '[2]');
SELECT vector_dims('[1,2]'::vector || array_fill(0, ARRAY[15998])::vector) AS concat_16000;

-- functions
SELECT vector_dims('[1,2,3]'::vector), vector_dims(array_fill(0, ARRAY[16000])::vector);
SELECT vector_norm('[3,4]'), l2_norm('[3,4]'::vector), vector_norm('[0,0]'), vector_norm('[-2]'),
       round(vector_norm('[1,1]')::numeric, 10) AS sqrt2;
SELECT l2_normalize('[3,4]'::vector), l2_normalize('[0,-5]'::vector), l2_normalize('[0,0]'::vector),
       l2_normalize('[1e-45]'::vector);
SELECT round(vector_norm(l2_normalize(v))::numeric, 5) AS unit, count(*)
  FROM vec_rand GROUP BY 1;
SELECT subvector('[1,2,3,4,5]'::vector, 1, 3), subvector('[1,2,3,4,5]'::vector, 3, 2),
       subvector('[1,2,3,4,5]'::vector, 4, 10), subvector('[1,2,3,4,5]'::vector, -1, 3),
       subvector('[1,2,3,4,5]'::vector, 5, 1);
SELECT binary_quantize('[1,-1,0,2,3,4,5,6,7,-1]'::vector), binary_quantize('[0.5]'::vector),
       binary_quantize('[-0,0,1e-45]'::vector), pg_typeof(binary_quantize('[1]'::vector));
SELECT length(binary_quantize(array_fill(1, ARRAY[16000])::vector)) AS bits,
       bit_count(binary_quantize(array_fill(1, ARRAY[16000])::vector)) AS ones;

-- comparison operators: lexicographic by element, then shorter first; -0 = 0
SELECT a, b, a < b AS lt, a <= b AS le, a = b AS eq, a <> b AS ne, a >= b AS ge, a > b AS gt,
       vector_cmp(a, b) AS cmp
  FROM (VALUES ('[1,2,3]'::vector, '[1,2,3]'::vector), ('[1,2,3]', '[1,2,4]'),
               ('[1,3]', '[1,2,4]'), ('[1,2]', '[1,2,3]'), ('[0]', '[-0]'),
               ('[-1]', '[1]')) t(a, b);
SELECT vector_lt('[1]', '[2]'), vector_le('[1]', '[1]'), vector_eq('[1]', '[1]'),
       vector_ne('[1]', '[1]'), vector_ge('[1]', '[2]'), vector_gt('[2]', '[1]');
-- the btree opclass: sort, index scans, unique, DISTINCT / GROUP BY
CREATE TEMP TABLE vec_bt (v vector);
INSERT INTO vec_bt VALUES ('[3]'), ('[1,2]'), ('[1]'), ('[1,2,3]'), ('[-1,5]'), ('[1,1]'), ('[1,2]');
SELECT v FROM vec_bt ORDER BY v;
SELECT v, count(*) FROM vec_bt GROUP BY v ORDER BY v DESC;
CREATE INDEX vec_bt_idx ON vec_bt (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT v FROM vec_bt WHERE v > '[1,1]' ORDER BY v;
SELECT v FROM vec_bt WHERE v > '[1,1]' ORDER BY v;
SELECT v FROM vec_bt WHERE v = '[1,2]';
RESET enable_seqscan;
CREATE UNIQUE INDEX vec_bt_uq ON vec_bt (v);
DELETE FROM vec_bt WHERE ctid = (SELECT max(ctid) FROM vec_bt WHERE v = '[1,2]');
CREATE UNIQUE INDEX vec_bt_uq ON vec_bt (v);
INSERT INTO vec_bt VALUES ('[-0]');
INSERT INTO vec_bt VALUES ('[0]');
SELECT v FROM vec_bt WHERE v = '[0]';

-- casts from arrays (assignment) and to arrays
SELECT '{1,2,3}'::int[]::vector, '{1.5,2.5}'::real[]::vector, '{1.5,-2.5}'::float8[]::vector,
       '{1.5,0.1}'::numeric[]::vector;
SELECT ARRAY[16777217]::vector AS int_rounds, ARRAY[0.1::float8]::vector AS float8_rounds,
       ARRAY[1.0000000596046447753907::numeric]::vector AS numeric_one_step;
SELECT array_to_vector('{1,2}'::int[], -1, true), array_to_vector('{1,2}'::real[], 2, false),
       array_to_vector('{1,2}'::float8[], -1, false), array_to_vector('{1,2}'::numeric[], -1, false);
SELECT '[1,2,3]'::vector::real[], '[1.5,-0,1e-07]'::vector::float8[],
       '[0.1,1e+20,-3]'::vector::numeric[], '[1.5,2.5,-0.5,3.7]'::vector::int[];
SELECT vector_to_float4('[1,2]', -1, false), vector_to_float8('[1,2]', -1, false),
       vector_to_numeric('[1,2]', -1, false), vector_to_int4('[1,2]', -1, false);
SELECT '{1,2,3}'::real[]::vector(3), ('{1,2,3}'::int[])::vector(3);
-- assignment casts into vector columns; real[] is an implicit cast target
CREATE TEMP TABLE vec_cast (v vector(2));
INSERT INTO vec_cast VALUES (ARRAY[1, 2]), (ARRAY[1.5, 2.5]::real[]), (ARRAY[3.5, 4]::float8[]),
                            (ARRAY[5.25, 6]::numeric[]);
SELECT v, v::real[] FROM vec_cast;
CREATE FUNCTION pg_temp.second(a real[]) RETURNS real LANGUAGE sql AS 'SELECT a[2]';
SELECT pg_temp.second('[4,5,6]'::vector) AS implicit_real_array;

DROP TABLE vec_rand, vec_bt, vec_cast;
