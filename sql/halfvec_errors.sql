-- halfvec: every kind of bad input gets an ERROR with the right SQLSTATE and pgvector's message,
-- never a crash. try() runs a statement and reports SQLSTATE, message and detail.
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

-- malformed literals, NaN, Infinity, out of the half range, empty
SELECT lit, pg_temp.try(format('SELECT %L::halfvec', lit)) AS result FROM (VALUES
  ('['), ('[1,]'), ('[1,,3]'), ('1,2,3'), ('[1,2,3]9'), ('[1a]'), ('[1,2,3'), ('[,'), ('[,1]'),
  (''), ('   '), ('[1 2]'), ('[1;2]'), ('[1]]'), ('[[1]]'), ('{1,2}'), ('[1e]'), ('[1e+]'),
  ('[.]'), ('[-]'), ('[+]'), ('[0x10]'), ('[1.2.3]'), ('[--1]'), ('[1_000]'), ('[1, ,3]'),
  ('[hello]'), ('[NaN]'), ('[nan,1]'), ('[-NaN]'), ('[Infinity]'), ('[-Infinity]'), ('[inf]'),
  ('[-inf]'), ('[infinit]'),
  ('[65520]'), ('[-65520]'), ('[65519.999]'), ('[1,1e5]'), ('[4e38]'), ('[-3.5e38]'),
  ('[1e99999]'), ('[65519.99]'), ('[1e-99999]'),
  ('[]'), ('[ ]'), ('  [  ]  ')
) t(lit);
SELECT pg_temp.try($$SELECT ('[' || repeat('1,', 15999) || '1]')::halfvec$$) AS dims_16000,
       pg_temp.try($$SELECT ('[' || repeat('1,', 16000) || '1]')::halfvec$$) AS dims_16001,
       pg_temp.try($$SELECT ('[' || repeat('1,', 100000) || '1]')::halfvec$$) AS dims_100001;
-- the full report for a few of them
SELECT '[1,2,3]9'::halfvec;
SELECT '1,2,3'::halfvec;
SELECT '[65520,-65520]'::halfvec;
SELECT '[NaN]'::halfvec;
\set VERBOSITY sqlstate
SELECT '[1a]'::halfvec;
SELECT '[Infinity]'::halfvec;
SELECT '[65520]'::halfvec;
SELECT '[]'::halfvec;
SELECT ('[' || repeat('1,', 16000) || '1]')::halfvec;
\set VERBOSITY default

-- typmods
SELECT decl, pg_temp.try(format('SELECT NULL::%s', decl)) AS result FROM (VALUES
  ('halfvec(0)'), ('halfvec(-1)'), ('halfvec(16001)'), ('halfvec(16000)'), ('halfvec(1,2)'),
  ('halfvec(''a'')'), ('halfvec(2147483648)')
) t(decl);
CREATE TABLE half_bad (v halfvec(0));
SELECT q, pg_temp.try(q) AS result FROM (VALUES
  ($$SELECT '[1,2]'::halfvec(3)$$), ($$SELECT halfvec('[1,2]', 3, true)$$),
  ($$SELECT halfvec_in('[1,2]', 0, 5)$$), ($$SELECT array_to_halfvec('{1,2}'::int[], 3, true)$$),
  ($$SELECT '[1,2]'::vector::halfvec(3)$$), ($$SELECT vector_to_halfvec('[1,2]', 1, true)$$),
  ($$SELECT '[1,2]'::halfvec::vector(3)$$), ($$SELECT halfvec_to_vector('[1,2]', 1, true)$$),
  ($$SELECT '{"[1,2]"}'::halfvec(3)[]$$)
) t(q);
\set VERBOSITY sqlstate
SELECT '[1,2,3]'::halfvec(2);
\set VERBOSITY default

-- dimension mismatch between operands, for every binary operator and function
SELECT q, pg_temp.try(q) AS result FROM (VALUES
  ($$SELECT '[1,2,3]'::halfvec <-> '[1,2]'$$), ($$SELECT '[1,2,3]'::halfvec <#> '[1,2]'$$),
  ($$SELECT '[1,2,3]'::halfvec <=> '[1,2]'$$), ($$SELECT '[1,2,3]'::halfvec <+> '[1,2]'$$),
  ($$SELECT '[1,2,3]'::halfvec + '[1,2]'$$), ($$SELECT '[1,2,3]'::halfvec - '[1,2]'$$),
  ($$SELECT '[1,2,3]'::halfvec * '[1,2]'$$), ($$SELECT l2_distance('[1,2,3]'::halfvec, '[1,2]')$$),
  ($$SELECT inner_product('[1,2,3]'::halfvec, '[1,2]')$$),
  ($$SELECT cosine_distance('[1,2,3]'::halfvec, '[1,2]')$$),
  ($$SELECT l1_distance('[1,2,3]'::halfvec, '[1,2]')$$),
  ($$SELECT halfvec_l2_squared_distance('[1,2,3]', '[1,2]')$$),
  ($$SELECT halfvec_negative_inner_product('[1,2,3]', '[1,2]')$$),
  ($$SELECT halfvec_spherical_distance('[1,2,3]', '[1,2]')$$),
  ($$SELECT '[1,2,3]'::halfvec <-> '[1,2]'::vector$$)
) t(q);

-- arithmetic beyond the half range (65504 + 16 = 65520 rounds to infinity), underflow of a
-- product of non-zero elements to zero, concatenation beyond the limit
SELECT q, pg_temp.try(q) AS result FROM (VALUES
  ($$SELECT '[65504]'::halfvec + '[16]'$$), ($$SELECT '[65504]'::halfvec + '[65504]'$$),
  ($$SELECT '[-65504]'::halfvec - '[16]'$$), ($$SELECT '[256]'::halfvec * '[256]'$$),
  ($$SELECT '[1,-300]'::halfvec * '[1,300]'$$),
  ($$SELECT '[1e-4]'::halfvec * '[1e-4]'$$), ($$SELECT '[6e-8]'::halfvec * '[0.5]'$$),
  ($$SELECT '[6e-8]'::halfvec * '[0]'$$), ($$SELECT '[6e-8]'::halfvec * '[0.75]'$$),
  ($$SELECT array_fill(1, ARRAY[8000])::halfvec || array_fill(1, ARRAY[8001])::halfvec$$),
  ($$SELECT sum(v) FROM (VALUES ('[65504]'::halfvec), ('[65504]')) t(v)$$)
) t(q);
SELECT '[65504]'::halfvec + '[16]';
SELECT '[1e-4]'::halfvec * '[1e-4]';

-- subvector: out-of-range and overflowing arguments
SELECT args, pg_temp.try(format('SELECT subvector(%L::halfvec, %s)', '[1,2,3]', args)) AS result
  FROM (VALUES ('1, 0'), ('1, -1'), ('4, 1'), ('0, 1'), ('-5, 3'), ('2147483647, 2147483647'),
               ('-2147483648, 2147483647'), ('-2147483648, -2147483648'),
               ('2147483647, -2147483648'), ('1, 2147483647'), ('3, 1'), ('-1, 2')) t(args);

-- casts: vector values beyond the half range; arrays
SELECT q, pg_temp.try(q) AS result FROM (VALUES
  ($$SELECT '[1,65520]'::vector::halfvec$$), ($$SELECT '[-65520]'::vector::halfvec$$),
  ($$SELECT '[1e10]'::vector::halfvec$$), ($$SELECT '[-3.4028235e38]'::vector::halfvec$$),
  ($$SELECT '[65519.996]'::vector::halfvec$$),
  ($$SELECT '{}'::int[]::halfvec$$), ($$SELECT '{{1,2},{3,4}}'::int[]::halfvec$$),
  ($$SELECT '{1,NULL}'::int[]::halfvec$$), ($$SELECT '{NaN}'::real[]::halfvec$$),
  ($$SELECT '{Infinity}'::real[]::halfvec$$), ($$SELECT '{1e10}'::real[]::halfvec$$),
  ($$SELECT '{-Infinity}'::float8[]::halfvec$$), ($$SELECT '{NaN}'::float8[]::halfvec$$),
  ($$SELECT '{70000}'::float8[]::halfvec$$), ($$SELECT '{1e39}'::float8[]::halfvec$$),
  ($$SELECT '{NaN}'::numeric[]::halfvec$$), ($$SELECT '{Infinity}'::numeric[]::halfvec$$),
  ($$SELECT '{-Infinity}'::numeric[]::halfvec$$), ($$SELECT '{65520}'::numeric[]::halfvec$$),
  ($$SELECT '{1e39}'::numeric[]::halfvec$$), ($$SELECT '{1e-46}'::numeric[]::halfvec$$),
  ($$SELECT '{70000.123456}'::float8[]::halfvec$$), ($$SELECT '{70000.123456}'::numeric[]::halfvec$$),
  ($$SELECT '{NaN,70000}'::float8[]::halfvec$$),
  ($$SELECT '{65520}'::int[]::halfvec$$), ($$SELECT '{-2147483648}'::int[]::halfvec$$),
  ($$SELECT array_fill(1, ARRAY[16001])::halfvec$$), ($$SELECT '{1,2}'::int[]::halfvec(3)$$),
  ($$SELECT '{1,2}'::real[]::halfvec(3)$$)
) t(q);

-- aggregates: mixed dimensions; crafted states are rejected, never read out of bounds
SELECT q, pg_temp.try(q) AS result FROM (VALUES
  ($$SELECT avg(v) FROM (VALUES ('[1,2]'::halfvec), ('[3]')) t(v)$$),
  ($$SELECT sum(v) FROM (VALUES ('[1,2]'::halfvec), ('[3]')) t(v)$$),
  ($$SELECT halfvec_accum('{1}', '[1]')$$),
  ($$SELECT halfvec_accum('{}', '[1]')$$),
  ($$SELECT halfvec_accum('{{1,2},{3,4}}', '[1]')$$),
  ($$SELECT halfvec_accum('{1,NULL}', '[1]')$$),
  ($$SELECT halfvec_accum('{-1,2}', '[1]')$$),
  ($$SELECT halfvec_accum('{1.5,2}', '[1]')$$),
  ($$SELECT halfvec_accum('{NaN,2}', '[1]')$$),
  ($$SELECT halfvec_accum('{1,Infinity}', '[1]')$$),
  ($$SELECT halfvec_accum('{0,0}', '[1,2,3]')$$),
  ($$SELECT halfvec_accum('{1,2,3}', '[1]')$$),
  ($$SELECT halfvec_accum(array_prepend(1::float8, array_fill(0::float8, ARRAY[16001])), '[1]')$$),
  ($$SELECT halfvec_combine('{1,2}', '{1,2,3}')$$),
  ($$SELECT halfvec_combine('{1}', '{1,2}')$$),
  ($$SELECT halfvec_avg('{1}')$$),
  ($$SELECT halfvec_avg('{1,65520}')$$),
  ($$SELECT halfvec_avg('{1,-1e300}')$$),
  ($$SELECT halfvec_avg(array_agg(n)) FROM generate_series(1, 16002) n$$),
  ($$SELECT halfvec_avg('{1,2}'::float8[] || NULL::float8)$$)
) t(q);

-- binary recv of crafted bytes, through COPY FROM ... (FORMAT binary). copy_cmd wraps one
-- halfvec field in a complete COPY BINARY stream and returns a shell command printing it.
CREATE FUNCTION pg_temp.copy_cmd(field bytea) RETURNS text LANGUAGE sql AS $$
  SELECT 'echo ' || translate(encode(
      '\x5047434f50590aff0d0a00'::bytea || '\x00000000'::bytea || '\x00000000'::bytea
      || '\x0001'::bytea || int4send(length(field)) || field || '\xffff'::bytea,
      'base64'), E'\n', '') || ' | base64 -d'
$$;
CREATE TABLE half_recv (v halfvec);
CREATE TABLE half_recv_2 (v halfvec(2));
SELECT what, pg_temp.try(format('COPY half_recv FROM PROGRAM %L WITH (FORMAT binary)',
                                pg_temp.copy_cmd(bytes))) AS result
  FROM (VALUES
    ('empty field', '\x'::bytea),
    ('short header', '\x0001'),
    ('values too short', '\x000200003c00'),
    ('odd byte count', '\x000100003c'),
    ('trailing bytes', '\x000100003c0000'),
    ('unused not 0', '\x000100013c00'),
    ('unused 0x8000', '\x000180003c00'),
    ('zero dimensions', '\x00000000'),
    ('16001 dimensions', '\x3e810000'),
    ('32768 dimensions', '\x80000000'),
    ('65535 dimensions', '\xffff0000'),
    ('quiet NaN', '\x000100007e00'),
    ('signaling NaN', '\x000200003c007c01'),
    ('negative NaN', '\x00010000fe00'),
    ('NaN, all mantissa bits', '\x000100007fff'),
    ('+Infinity', '\x000100007c00'),
    ('-Infinity', '\x00010000fc00'),
    ('subnormals and -0 (valid)', '\x00030000000183ff8000'),
    ('max half (valid)', '\x000200007bfffbff')
  ) t(what, bytes);
SELECT v, halfvec_send(v) FROM half_recv;
-- the typmod is checked before the unused field and the values (pgvector's order)
SELECT what, pg_temp.try(format('COPY half_recv_2 FROM PROGRAM %L WITH (FORMAT binary)',
                                pg_temp.copy_cmd(bytes))) AS result
  FROM (VALUES
    ('3 dimensions into halfvec(2)', '\x000300003c003c003c00'::bytea),
    ('3 dimensions, unused 1', '\x000300013c003c003c00'),
    ('2 dimensions, NaN', '\x000200003c007e00'),
    ('2 dimensions (valid)', '\x000200003c00c000')
  ) t(what, bytes);
SELECT v FROM half_recv_2;
-- the full report for one of them
\set SHOW_CONTEXT never
SELECT pg_temp.copy_cmd('\x000100013c00') AS cmd \gset
COPY half_recv FROM PROGRAM :'cmd' WITH (FORMAT binary);
\set VERBOSITY sqlstate
SELECT pg_temp.copy_cmd('\x000100007c00') AS cmd \gset
COPY half_recv FROM PROGRAM :'cmd' WITH (FORMAT binary);
\set VERBOSITY default
\set SHOW_CONTEXT errors

-- the backend is fine after all of the above
SELECT '[1,2,3]'::halfvec <-> '[1,2,4]' AS still_working;
DROP TABLE half_recv, half_recv_2;
-- pgvector's order of checks: no dimensions before junk, the count before the 16,001st element,
-- words that start with nan/inf read as NaN/infinity (as strtof reads them)
SELECT '[]x'::halfvec;
SELECT ('[' || repeat('1,', 16000) || 'x]')::halfvec;
SELECT '[infinit]'::halfvec;
SELECT '[-Information]'::halfvec;
SELECT '[nanx]'::halfvec;
SELECT '[1,2]x'::halfvec;
