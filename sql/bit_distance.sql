-- bit distances: hamming_distance / <~> and jaccard_distance / <%> (pgvector's names, operators,
-- errors and jaccard convention), checked by hand and against counts computed in SQL.

-- by hand: 1010 vs 0110 differ in the first two bits (hamming 2); they share one set bit of the
-- three set in either (jaccard 1 - 1/3)
SELECT hamming_distance(B'1010', B'0110') AS ham, B'1010' <~> B'0110' AS ham_op,
       jaccard_distance(B'1010', B'0110') = 1 - 1/3::float8 AS jac_is_two_thirds,
       B'1010' <%> B'0110' = 1 - 1/3::float8 AS jac_op;
SELECT a, b, hamming_distance(a, b) AS ham, jaccard_distance(a, b) AS jac FROM (VALUES
  (B'111', B'111'), (B'111', B'110'), (B'111', B'100'), (B'111', B'000'),
  (B'1111', B'1110'), (B'1111', B'1100'), (B'1111', B'1000'), (B'1100', B'1000'),
  (B'1', B'1'), (B'1', B'0'), (B'0', B'0'), (B'0000', B'0000'), (B'0000', B'0001'),
  (B'10000000', B'00000001'), (B'100000001', B'000000001'), (B'', B'')
) t(a, b);

-- commuted operands give the same values; NULL in, NULL out (STRICT)
SELECT B'110' <~> B'011' AS ham_ab, B'011' <~> B'110' AS ham_ba,
       B'110' <%> B'011' AS jac_ab, B'011' <%> B'110' AS jac_ba,
       hamming_distance(NULL, B'1') IS NULL AS ham_null, jaccard_distance(B'1', NULL) IS NULL AS jac_null;
-- bit varying values take the bit operators through the implicit cast
SELECT '10110'::varbit <~> '00111'::varbit AS ham_varbit, '10110'::varbit <%> '00111'::varbit AS jac_varbit;

-- Random strings of many lengths (around the byte and 64-bit word boundaries, and long ones),
-- at three densities. The reference counts come from bit operators and text: the set bits of
-- a # b (hamming) and of a & b, a | b (jaccard, 1 when no bit is shared, as pgvector).
SELECT setseed(0.25);
CREATE TEMP TABLE bits (len int, density float8, pair int, a varbit, b varbit);
INSERT INTO bits
SELECT len, density, pair,
       (SELECT string_agg(CASE WHEN g > 0 AND random() < density THEN '1' ELSE '0' END, '')
          FROM generate_series(1, len) g)::varbit,
       (SELECT string_agg(CASE WHEN g > 0 AND random() < density THEN '1' ELSE '0' END, '')
          FROM generate_series(1, len) g)::varbit
  FROM unnest(ARRAY[1, 7, 8, 9, 63, 64, 65, 127, 128, 129, 1000, 64000]) len,
       unnest(ARRAY[0.1, 0.5, 0.9]) density,
       generate_series(1, 3) pair;
-- strings that differ in one bit only, at the first, middle and last position
INSERT INTO bits
SELECT len, 0, pos, repeat('1', len)::varbit, overlay(repeat('1', len) placing '0' from pos)::varbit
  FROM unnest(ARRAY[1, 7, 8, 9, 63, 64, 65, 1000, 64000]) len,
       LATERAL (VALUES (1), ((len + 1) / 2), (len)) p(pos);
-- equal strings: all ones and all zeros (no shared bit: jaccard 1, as pgvector)
INSERT INTO bits
SELECT len, d, 0, repeat(d::text, len)::varbit, repeat(d::text, len)::varbit
  FROM unnest(ARRAY[1, 9, 64, 64000]) len, unnest(ARRAY[0, 1]) d;
CREATE TEMP TABLE bit_ref AS
SELECT len, density, pair, a, b,
       length(replace((a # b)::text, '0', '')) AS xor_ones,
       length(replace((a & b)::text, '0', '')) AS and_ones,
       length(replace((a | b)::text, '0', '')) AS or_ones
  FROM bits;
SELECT count(*) AS pairs, count(*) FILTER (WHERE length(a) = len AND length(b) = len) AS full_length
  FROM bit_ref;
SELECT len,
       count(*) AS pairs,
       count(*) FILTER (WHERE (a <~> b) = xor_ones) AS hamming_ok,
       count(*) FILTER (WHERE hamming_distance(b, a) = xor_ones) AS hamming_commuted_ok,
       count(*) FILTER (WHERE (a <%> b) = CASE WHEN and_ones = 0 THEN 1
                                               ELSE 1 - and_ones::float8 / or_ones END) AS jaccard_ok,
       count(*) FILTER (WHERE jaccard_distance(b, a) = (a <%> b)) AS jaccard_commuted_ok,
       min(xor_ones) AS min_ham, max(xor_ones) AS max_ham
  FROM bit_ref GROUP BY len ORDER BY len;

-- errors: pgvector's message and SQLSTATE 22000 for strings of different lengths
\set VERBOSITY sqlstate
SELECT B'111' <~> B'00';
SELECT B'1111' <%> B'000';
SELECT hamming_distance(B'1', repeat('1', 64001)::bit(64001));
\set VERBOSITY default
SELECT hamming_distance(B'111', B'00');
SELECT jaccard_distance(B'1111', B'000');
SELECT B'' <~> B'0';

-- the catalog: as pgvector defines them
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns, p.provolatile,
       p.proisstrict, p.proparallel
  FROM pg_proc p WHERE p.proname IN ('hamming_distance', 'jaccard_distance') ORDER BY 1::text;
SELECT o.oid::regoperator AS operator, o.oprcode AS function, o.oprcom::regoperator AS commutator,
       o.oprnegate AS negator, o.oprresult::regtype AS returns
  FROM pg_operator o WHERE o.oprname IN ('<~>', '<%>') ORDER BY 1::text;
