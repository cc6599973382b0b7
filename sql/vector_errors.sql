-- vector: every kind of bad input gets a clear ERROR with the right SQLSTATE, never a crash.
-- try() runs a statement and reports SQLSTATE, message and detail.
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

-- malformed literals, NaN, Infinity, out of range, empty, too many dimensions
SELECT lit, pg_temp.try(format('SELECT %L::vector', lit)) AS result FROM (VALUES
  ('['), ('[1,]'), ('[1,,3]'), ('1,2,3'), ('[1,2,3]9'), ('[1a]'), ('[1,2,3'), ('[,'), ('[,1]'),
  (''), ('   '), ('[1 2]'), ('[1;2]'), ('[1]]'), ('[[1]]'), ('{1,2}'), ('[1e]'), ('[1e+]'),
  ('[.]'), ('[-]'), ('[+]'), ('[0x10]'), ('[1.2.3]'), ('[--1]'), ('[1_000]'),
  ('[hello]'), ('[NaN]'), ('[nan,1]'), ('[-NaN]'), ('[Infinity]'), ('[-Infinity]'), ('[inf]'),
  ('[-inf]'), ('[infinit]'), ('[1e39]'), ('[-3.5e38]'), ('[3.4028236e38]'), ('[1e99999]'),
  ('[]'), ('[ ]'), ('  [  ]  ')
) t(lit);
SELECT pg_temp.try($$SELECT ('[' || repeat('1,', 15999) || '1]')::vector$$) AS dims_16000,
       pg_temp.try($$SELECT ('[' || repeat('1,', 16000) || '1]')::vector$$) AS dims_16001,
       pg_temp.try($$SELECT ('[' || repeat('1,', 100000) || '1]')::vector$$) AS dims_100001;
-- the full report for a few of them
SELECT '[1,,3]'::vector;
SELECT '[1,2,3]9'::vector;
SELECT '[NaN]'::vector;
\set VERBOSITY sqlstate
SELECT '[1a]'::vector;
SELECT '[Infinity]'::vector;
SELECT '[1e39]'::vector;
SELECT '[]'::vector;
\set VERBOSITY default

-- typmods
SELECT decl, pg_temp.try(format('SELECT NULL::%s', decl)) AS result FROM (VALUES
  ('vector(0)'), ('vector(-1)'), ('vector(16001)'), ('vector(16000)'), ('vector(1,2)'),
  ('vector(''a'')'), ('vector(2147483648)')
) t(decl);
CREATE TABLE vec_bad (v vector(0));
SELECT pg_temp.try($$SELECT '[1,2]'::vector(3)$$) AS typmod_literal,
       pg_temp.try($$SELECT vector('[1,2]', 3, true)$$) AS typmod_cast,
       pg_temp.try($$SELECT vector_in('[1,2]', 0, 5)$$) AS typmod_in_fn,
       pg_temp.try($$SELECT array_to_vector('{1,2}'::int[], 3, true)$$) AS typmod_array;
SELECT vector_typmod_in('{7}'::cstring[]), vector_typmod_out(7), vector_typmod_out(-1)::text = '' AS no_typmod;

-- dimension mismatch between operands, for every binary operator and function
SELECT q, pg_temp.try(q) AS result FROM (VALUES
  ($$SELECT '[1,2,3]'::vector <-> '[1,2]'$$), ($$SELECT '[1,2,3]'::vector <#> '[1,2]'$$),
  ($$SELECT '[1,2,3]'::vector <=> '[1,2]'$$), ($$SELECT '[1,2,3]'::vector <+> '[1,2]'$$),
  ($$SELECT '[1,2,3]'::vector + '[1,2]'$$), ($$SELECT '[1,2,3]'::vector - '[1,2]'$$),
  ($$SELECT '[1,2,3]'::vector * '[1,2]'$$), ($$SELECT l2_distance('[1,2,3]'::vector, '[1,2]')$$),
  ($$SELECT inner_product('[1,2,3]'::vector, '[1,2]')$$), ($$SELECT cosine_distance('[1,2,3]'::vector, '[1,2]')$$),
  ($$SELECT l1_distance('[1,2,3]'::vector, '[1,2]')$$),
  ($$SELECT vector_l2_squared_distance('[1,2,3]', '[1,2]')$$),
  ($$SELECT vector_negative_inner_product('[1,2,3]', '[1,2]')$$)
) t(q);

-- arithmetic overflow and underflow, concatenation beyond the limit
SELECT q, pg_temp.try(q) AS result FROM (VALUES
  ($$SELECT '[3e38]'::vector + '[3e38]'$$), ($$SELECT '[-3e38]'::vector - '[3e38]'$$),
  ($$SELECT '[1e37]'::vector * '[1e37]'$$), ($$SELECT '[1e-37]'::vector * '[1e-37]'$$),
  ($$SELECT '[0]'::vector * '[1e-37]'$$),
  ($$SELECT array_fill(1, ARRAY[8000])::vector || array_fill(1, ARRAY[8001])::vector$$)
) t(q);

-- subvector: out-of-range and overflowing arguments
SELECT args, pg_temp.try(format('SELECT subvector(%L::vector, %s)', '[1,2,3]', args)) AS result
  FROM (VALUES ('1, 0'), ('1, -1'), ('4, 1'), ('0, 1'), ('-5, 3'), ('2147483647, 2147483647'),
               ('-2147483648, 2147483647'), ('-2147483648, -2147483648'),
               ('2147483647, -2147483648'), ('1, 2147483647'), ('3, 1')) t(args);

-- casts from arrays
SELECT q, pg_temp.try(q) AS result FROM (VALUES
  ($$SELECT '{}'::int[]::vector$$), ($$SELECT '{{1,2},{3,4}}'::int[]::vector$$),
  ($$SELECT '{1,NULL}'::int[]::vector$$), ($$SELECT '{NaN}'::real[]::vector$$),
  ($$SELECT '{Infinity}'::real[]::vector$$), ($$SELECT '{-Infinity}'::float8[]::vector$$),
  ($$SELECT '{NaN}'::float8[]::vector$$), ($$SELECT '{1e39}'::float8[]::vector$$),
  ($$SELECT '{NaN}'::numeric[]::vector$$), ($$SELECT '{Infinity}'::numeric[]::vector$$),
  ($$SELECT '{-Infinity}'::numeric[]::vector$$), ($$SELECT '{1e39}'::numeric[]::vector$$),
  ($$SELECT '{1e-46}'::numeric[]::vector$$),
  ($$SELECT array_fill(1, ARRAY[16001])::vector$$),
  ($$SELECT '{1,2}'::int[]::vector(3)$$),
  ($$SELECT '[1,3e9]'::vector::int[]$$), ($$SELECT '[-3e9]'::vector::int[]$$),
  ($$SELECT '[2147483520]'::vector::int[]$$), ($$SELECT '[-2147483648]'::vector::int[]$$)
) t(q);

-- binary recv of crafted bytes, through COPY FROM ... (FORMAT binary). copy_cmd wraps one vector
-- field in a complete COPY BINARY stream and returns a shell command printing it.
CREATE FUNCTION pg_temp.copy_cmd(field bytea) RETURNS text LANGUAGE sql AS $$
  SELECT 'echo ' || translate(encode(
      '\x5047434f50590aff0d0a00'::bytea || '\x00000000'::bytea || '\x00000000'::bytea
      || '\x0001'::bytea || int4send(length(field)) || field || '\xffff'::bytea,
      'base64'), E'\n', '') || ' | base64 -d'
$$;
CREATE TABLE vec_recv (v vector);
SELECT what, pg_temp.try(format('COPY vec_recv FROM PROGRAM %L WITH (FORMAT binary)',
                                pg_temp.copy_cmd(bytes))) AS result
  FROM (VALUES
    ('empty field', '\x'::bytea),
    ('short header', '\x0001'),
    ('values too short', '\x000200003f800000'),
    ('trailing bytes', '\x000100003f80000000'),
    ('unused not 0', '\x000100013f800000'),
    ('unused 0x8000', '\x000180003f800000'),
    ('zero dimensions', '\x00000000'),
    ('16001 dimensions', '\x3e810000'),
    ('65535 dimensions', '\xffff0000'),
    ('quiet NaN', '\x000100007fc00000'),
    ('signaling NaN', '\x000200003f8000007f800001'),
    ('negative NaN', '\x00010000ffc00000'),
    ('+Infinity', '\x000100007f800000'),
    ('-Infinity', '\x00010000ff800000'),
    ('subnormal (valid)', '\x0002000000000001807fffff'),
    ('max float (valid)', '\x000100007f7fffff')
  ) t(what, bytes);
SELECT v, vector_send(v) FROM vec_recv;
-- the full report for one of them
\set SHOW_CONTEXT never
SELECT pg_temp.copy_cmd('\x000100013f800000') AS cmd \gset
COPY vec_recv FROM PROGRAM :'cmd' WITH (FORMAT binary);
\set SHOW_CONTEXT errors

-- the backend is fine after all of the above
SELECT '[1,2,3]'::vector <-> '[1,2,4]' AS still_working;
DROP TABLE vec_recv;
-- pgvector's order of checks: no dimensions before junk, the count before the 16,001st element,
-- words that start with nan/inf read as NaN/infinity (as strtof reads them)
SELECT '[]x'::vector;
SELECT ('[' || repeat('1,', 16000) || 'x]')::vector;
SELECT '[infinit]'::vector;
SELECT '[-Information]'::vector;
SELECT '[nanx]'::vector;
SELECT '[1,2]x'::vector;
