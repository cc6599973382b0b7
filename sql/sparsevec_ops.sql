-- sparsevec: distances, norms, comparisons, casts. Printed values are exact in float or
-- checked against independent computations (numeric arithmetic over the elements, the dense
-- vector functions, Postgres' own array order).

-- distances by hand
SELECT l2_distance('{}/2'::sparsevec, '{1:3,2:4}/2') AS l2_empty,
       l2_distance('{1:3}/2'::sparsevec, '{2:4}/2') AS l2_disjoint,
       '{1:1,2:1}/2'::sparsevec <-> '{1:4,2:5}/2' AS l2_op,
       sparsevec_l2_squared_distance('{1:1,3:1}/3', '{2:2,3:3}/3') AS l2sq;
SELECT inner_product('{1:1,2:2}/2'::sparsevec, '{1:2,2:4}/2') AS ip,
       inner_product('{1:1,3:3}/4'::sparsevec, '{2:2,4:4}/4') AS ip_disjoint,
       inner_product('{1:1,3:3,5:5}/5'::sparsevec, '{2:4,3:6,4:8}/5') AS ip_one_shared,
       '{1:1,2:2}/2'::sparsevec <#> '{1:3,2:4}/2' AS neg_ip_op,
       sparsevec_negative_inner_product('{1:1,2:2}/2', '{1:3,2:4}/2') AS neg_ip_fn;
SELECT cosine_distance('{1:1,2:2}/2'::sparsevec, '{1:2,2:4}/2') AS same_dir,
       '{1:1,2:1}/2'::sparsevec <=> '{1:-1,2:-1}/2' AS opposite,
       '{1:2}/2'::sparsevec <=> '{2:2}/2' AS orthogonal,
       cosine_distance('{1:3}/2'::sparsevec, '{1:3,2:4}/2') AS c_0_4,
       cosine_distance('{1:1,2:2}/2'::sparsevec, '{}/2') AS zero_is_nan,
       cosine_distance('{}/1'::sparsevec, '{}/1') AS both_zero,
       cosine_distance('{1:3e38}/1'::sparsevec, '{1:3e38}/1') AS overflow_nan;
SELECT l1_distance('{}/2'::sparsevec, '{1:3,2:4}/2') AS l1_empty,
       '{1:1,3:3,5:5,7:7}/8'::sparsevec <+> '{2:2,4:4,6:6,8:8}/8' AS l1_interleaved,
       l1_distance('{1:1,3:3,5:5,7:7,9:9}/9'::sparsevec, '{2:2,4:4,6:6,8:8}/9') AS l1_tail,
       l1_distance('{1:3e38}/1'::sparsevec, '{1:-3e38}/1') AS l1_overflow,
       inner_product('{1:3e38}/1'::sparsevec, '{1:3e38}/1') AS ip_overflow;
-- large dimensions with few elements (beyond vector's 16000)
SELECT '{1:1,999999999:2}/1000000000'::sparsevec <-> '{2:2,999999999:-1,1000000000:4}/1000000000' AS l2,
       '{1:1,999999999:2}/1000000000'::sparsevec <#> '{2:2,999999999:-1,1000000000:4}/1000000000' AS neg_ip,
       '{1:1,999999999:2}/1000000000'::sparsevec <+> '{2:2,999999999:-1,1000000000:4}/1000000000' AS l1;
-- commutators give the same values
SELECT a <-> b = b <-> a AS l2, a <#> b = b <#> a AS ip, a <=> b = b <=> a AS cos, a <+> b = b <+> a AS l1
  FROM (VALUES ('{1:0.5,4:-2,9:3}/10'::sparsevec, '{2:1,4:1.5,10:-0.25}/10'::sparsevec)) t(a, b);

-- norms
SELECT l2_norm('{1:3,2:4}/2'::sparsevec) AS n5, l2_norm('{}/2'::sparsevec) AS n0,
       l2_norm('{1:3e37,2:4e37}/2'::sparsevec)::real AS n_big,
       round(l2_norm('{1:1,2:1}/2'::sparsevec)::numeric, 12) AS sqrt2,
       round((l2_norm('{1:3e38,2:3e38}/2'::sparsevec) / 1e38)::numeric, 6) AS summed_in_double;
SELECT l2_normalize('{1:3,2:4}/2'::sparsevec) AS n1, l2_normalize('{1:3}/2'::sparsevec) AS n2,
       l2_normalize('{2:0.1}/2'::sparsevec) AS n3, l2_normalize('{}/2'::sparsevec) AS zero,
       l2_normalize('{1:3e38,2:1e-37}/2'::sparsevec) AS tiny_dropped,
       l2_normalize('{2:3e37,4:3e-37,6:4e37,8:4e-37}/9'::sparsevec) AS two_dropped;
SELECT l2_normalize(v)::vector = l2_normalize(v::vector) AS same_as_vector
  FROM (VALUES ('{1:1,3:2,4:-2}/5'::sparsevec)) t(v);

-- dimensions: vector_dims counts dimensions, not stored elements
SELECT vector_dims('{1:1,2:2,3:3}/3'::sparsevec) AS d3, vector_dims('{}/1'::sparsevec) AS d1,
       vector_dims('{2:5}/1000000000'::sparsevec) AS d_max,
       vector_dims('{1:3,2:4}/3'::sparsevec(3)) AS typmod_3,
       vector_dims('[0,0,1.5,0]'::vector::sparsevec) AS from_vector;

-- Random pairs, checked against numeric arithmetic over the elements. Integer values: every
-- float sum is exact, so the results must be equal; decimal values: equal within float
-- rounding. The literals list the elements in random order (the parser sorts them).
SELECT setseed(0.5);
CREATE TEMP TABLE pair_dims AS
  SELECT p, 1 + floor(random() * 60)::int AS dim, p > 150 AS decimals FROM generate_series(1, 300) p;
CREATE TEMP TABLE elems AS
  SELECT d.p, s.side, i AS idx,
         CASE WHEN d.decimals THEN round((random() * 20 - 10)::numeric, 3)
              ELSE floor(random() * 9)::numeric - 4 END AS val
    FROM pair_dims d, (VALUES ('a'), ('b')) s(side), generate_series(1, d.dim) i
   WHERE random() < 0.35;
CREATE TEMP TABLE pairs AS
  SELECT d.p, d.dim, d.decimals,
         (SELECT coalesce('{' || string_agg(idx || ':' || val, ',' ORDER BY random()) || '}', '{}')
            FROM elems e WHERE e.p = d.p AND e.side = 'a') || '/' || d.dim AS a_lit,
         (SELECT coalesce('{' || string_agg(idx || ':' || val, ',' ORDER BY random()) || '}', '{}')
            FROM elems e WHERE e.p = d.p AND e.side = 'b') || '/' || d.dim AS b_lit
    FROM pair_dims d;
CREATE TEMP TABLE ref AS
  SELECT p,
         sum((av - bv) ^ 2) AS l2sq, sum(av * bv) AS ip, sum(abs(av - bv)) AS l1,
         sum(av ^ 2) AS aa, sum(bv ^ 2) AS bb
    FROM (SELECT d.p, coalesce(a.val, 0) AS av, coalesce(b.val, 0) AS bv
            FROM pair_dims d CROSS JOIN generate_series(1, d.dim) i
            LEFT JOIN elems a ON a.p = d.p AND a.side = 'a' AND a.idx = i
            LEFT JOIN elems b ON b.p = d.p AND b.side = 'b' AND b.idx = i) x
   GROUP BY p;
CREATE TEMP TABLE got AS
  SELECT p, decimals, a_lit::sparsevec AS a, b_lit::sparsevec AS b FROM pairs;
SELECT g.decimals, count(*) AS pairs,
       count(*) FILTER (WHERE (SELECT count(*) FROM elems e WHERE e.p = g.p) = 0) AS both_empty,
       count(*) FILTER (WHERE sparsevec_l2_squared_distance(a, b) = r.l2sq::float8
                        OR (g.decimals AND abs(sparsevec_l2_squared_distance(a, b) - r.l2sq::float8) <= 1e-5 * (1 + r.l2sq::float8))) AS l2sq_ok,
       count(*) FILTER (WHERE (a <-> b) = sqrt(r.l2sq::float8)
                        OR (g.decimals AND abs((a <-> b) - sqrt(r.l2sq::float8)) <= 1e-5 * (1 + sqrt(r.l2sq::float8)))) AS l2_ok,
       count(*) FILTER (WHERE inner_product(a, b) = r.ip::float8
                        OR (g.decimals AND abs(inner_product(a, b) - r.ip::float8) <= 1e-5 * (1 + abs(r.ip::float8)))) AS ip_ok,
       count(*) FILTER (WHERE (a <#> b) = -inner_product(a, b)) AS neg_ip_ok,
       count(*) FILTER (WHERE (a <+> b) = r.l1::float8
                        OR (g.decimals AND abs((a <+> b) - r.l1::float8) <= 1e-5 * (1 + r.l1::float8))) AS l1_ok,
       count(*) FILTER (WHERE CASE WHEN r.aa = 0 OR r.bb = 0 THEN (a <=> b) = 'NaN'
                                   ELSE abs((a <=> b) - (1 - greatest(-1, least(1,
                                        r.ip::float8 / sqrt(r.aa::float8 * r.bb::float8))))) <= 1e-6 END) AS cos_ok,
       count(*) FILTER (WHERE abs(l2_norm(a) - sqrt(r.aa::float8)) <= 1e-6 * (1 + sqrt(r.aa::float8))) AS norm_ok
  FROM got g JOIN ref r USING (p) GROUP BY g.decimals ORDER BY g.decimals;
-- the same pairs through the dense vector functions (integer values: exact, any sum order)
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE (a <-> b) = (a::vector <-> b::vector)) AS l2_same,
       count(*) FILTER (WHERE (a <#> b) = (a::vector <#> b::vector)) AS ip_same,
       count(*) FILTER (WHERE (a <+> b) = (a::vector <+> b::vector)) AS l1_same,
       count(*) FILTER (WHERE (a <=> b) = (a::vector <=> b::vector)
                        OR abs((a <=> b) - (a::vector <=> b::vector)) <= 1e-12
                        OR ((a <=> b) = 'NaN' AND (a::vector <=> b::vector) = 'NaN')) AS cos_same,
       count(*) FILTER (WHERE a::vector::sparsevec = a AND a::vector::sparsevec::text = a::text) AS round_trip
  FROM got WHERE NOT decimals;

-- comparisons: the order of the dense vectors, which is Postgres' order for real[] (element by
-- element, then the shorter first). Short vectors with values in {-1, 0, 1} and dimensions 1..5
-- give every prefix / tie / sign case.
SELECT setseed(0.75);
CREATE TEMP TABLE small AS
  SELECT n, ('[' || string_agg((floor(random() * 3) - 1)::text, ',') || ']')::vector AS v
    FROM generate_series(1, 120) n, LATERAL generate_series(1, 1 + (n % 5)) i GROUP BY n;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE sparsevec_cmp(a.v::sparsevec, b.v::sparsevec) =
                              CASE WHEN a.v::real[] < b.v::real[] THEN -1
                                   WHEN a.v::real[] > b.v::real[] THEN 1 ELSE 0 END) AS cmp_ok,
       count(*) FILTER (WHERE (a.v::sparsevec < b.v::sparsevec) = (a.v::real[] < b.v::real[])
                          AND (a.v::sparsevec <= b.v::sparsevec) = (a.v::real[] <= b.v::real[])
                          AND (a.v::sparsevec = b.v::sparsevec) = (a.v::real[] = b.v::real[])
                          AND (a.v::sparsevec <> b.v::sparsevec) = (a.v::real[] <> b.v::real[])
                          AND (a.v::sparsevec >= b.v::sparsevec) = (a.v::real[] >= b.v::real[])
                          AND (a.v::sparsevec > b.v::sparsevec) = (a.v::real[] > b.v::real[])) AS ops_ok,
       count(*) FILTER (WHERE a.v::real[] = b.v::real[]) AS equal_pairs
  FROM small a, small b;
SELECT sparsevec_cmp('{1:1,2:2,3:3}/3', '{1:1,2:2,3:3}/3') AS eq,
       sparsevec_cmp('{1:1,2:2,3:3}/3', '{}/3') AS vs_zero,
       sparsevec_cmp('{1:1,2:2}/2', '{1:1,2:2,3:3}/3') AS prefix,
       sparsevec_cmp('{1:2,2:3}/2', '{1:1,2:2,3:3}/3') AS first_decides,
       sparsevec_cmp('{3:-1}/3', '{}/2') AS beyond_shorter,
       sparsevec_cmp('{2:-1}/3', '{}/3') AS negative_first;
-- a btree index (sparsevec_ops) orders and finds rows as the sort does
CREATE TEMP TABLE sv_bt AS SELECT n, v::sparsevec AS v FROM small;
CREATE INDEX ON sv_bt (v);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT n FROM sv_bt ORDER BY v;
SELECT array_agg(n ORDER BY v, n) AS via_index FROM (SELECT n, v FROM sv_bt ORDER BY v, n) s \gset
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT :'via_index' = (SELECT array_agg(n ORDER BY v::vector::real[], n) FROM sv_bt)::text AS same_order;
-- equality lookups through the index find every equal row (the 394 equal pairs above)
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM sv_bt WHERE v = '{1:1}/2';
SELECT sum((SELECT count(*) FROM sv_bt b WHERE b.v = s.v::sparsevec)) AS found_via_index FROM small s;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- casts
SELECT '[0,1.5,0,3.5,0]'::vector::sparsevec AS from_vector, '[0,1.5,0,3.5,0]'::vector::sparsevec(5) AS typmod,
       '[-0,0,1]'::vector::sparsevec AS negative_zero_dropped,
       '{2:1.5,4:3.5}/5'::sparsevec::vector AS to_vector, '{}/3'::sparsevec::vector(3) AS zeros;
SELECT ARRAY[1,0,2,0,3,0]::sparsevec AS int4, ARRAY[1.5,0,-2]::numeric[]::sparsevec AS numeric,
       '{1,0,2,0,3,0}'::real[]::sparsevec(6) AS real, '{0,0.1,0}'::float8[]::sparsevec AS float8,
       '{16777217}'::integer[]::sparsevec AS int_rounded, '{0.1}'::numeric[]::sparsevec AS numeric_rounded,
       '{1e-46,1}'::float8[]::sparsevec AS underflow_dropped, '{0,0}'::real[]::sparsevec AS all_zero;
SELECT array_to_sparsevec('{0,5}'::int[], 2, true) AS fn, array_to_sparsevec('{0,5}'::real[], -1, false) AS fn_no_typmod;
-- the implicit cast vector -> sparsevec: mixed operands resolve to sparsevec's operators
SELECT '[1,0,2]'::vector::sparsevec <-> '{1:1}/3'::sparsevec AS explicit,
       pg_typeof('[1,0,2]'::vector <-> '{1:1}/3'::sparsevec) AS mixed_type,
       '[1,0,2]'::vector <-> '{1:1}/3'::sparsevec AS mixed;
-- assignment casts: sparsevec into vector columns and arrays into sparsevec columns
CREATE TEMP TABLE casts (v vector(3), s sparsevec(3));
INSERT INTO casts VALUES ('{1:1}/3'::sparsevec, ARRAY[0,0,2]), ('[1,2,3]', '[0,0,4]'::vector);
SELECT v, s FROM casts ORDER BY v;

-- strictness: NULL in, NULL out
SELECT l2_distance(NULL::sparsevec, '{}/1') IS NULL AS l2, l2_norm(NULL::sparsevec) IS NULL AS norm,
       (NULL::sparsevec < '{}/1') IS NULL AS lt, NULL::vector::sparsevec IS NULL AS cast,
       vector_dims(NULL::sparsevec) IS NULL AS dims;

-- the catalog: names, signatures, markings, operators and casts as pgvector 0.8 defines them
SELECT t.typname, t.typlen, t.typstorage, t.typalign, t.typinput, t.typoutput, t.typreceive,
       t.typsend, t.typmodin, t.typmodout
  FROM pg_type t WHERE t.typname = 'sparsevec';
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns, p.prosrc AS symbol,
       p.provolatile AS vol, p.proisstrict AS strict, p.proparallel AS par
  FROM pg_proc p
 WHERE 'sparsevec'::regtype = ANY (p.proargtypes::oid[] || p.prorettype)
 ORDER BY 1::text;
SELECT o.oid::regoperator AS operator, o.oprcode AS function, o.oprcom::regoperator AS commutator,
       o.oprnegate::regoperator AS negator, o.oprrest AS restrict, o.oprjoin AS join
  FROM pg_operator o WHERE o.oprleft = 'sparsevec'::regtype ORDER BY 1::text;
SELECT c.castsource::regtype AS source, c.casttarget::regtype AS target, c.castfunc::regprocedure AS function,
       c.castcontext AS context
  FROM pg_cast c WHERE 'sparsevec'::regtype IN (c.castsource, c.casttarget) ORDER BY 1::text, 2::text;
SELECT opc.opcname, am.amname, opc.opcdefault,
       (SELECT string_agg(amop.amopstrategy || ':' || amop.amopopr::regoperator, ' ' ORDER BY amop.amopstrategy)
          FROM pg_amop amop WHERE amop.amopfamily = opc.opcfamily) AS operators,
       (SELECT string_agg(amproc.amprocnum || ':' || amproc.amproc::regprocedure, ' ' ORDER BY amproc.amprocnum)
          FROM pg_amproc amproc WHERE amproc.amprocfamily = opc.opcfamily) AS functions
  FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
 WHERE opc.opcintype = 'sparsevec'::regtype ORDER BY am.amname, opc.opcname;
