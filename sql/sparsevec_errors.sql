-- sparsevec: every kind of bad input gets pgvector's ERROR and SQLSTATE, never a crash.
-- try() runs a statement and reports 'ok' or SQLSTATE, message and detail.
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

-- text input: malformed literals
SELECT lit, pg_temp.try(format('SELECT %L::sparsevec', lit)) AS result FROM (VALUES
  (''), ('   '), ('{'), ('{ '), ('{:'), ('{,'), ('{}'), ('{} '), ('{}/'), ('{}/ '), ('{}/1a'),
  ('{}/1 x'), ('{}/1/'), ('{}/1.5'), ('{}/1e3'), ('{}1'), ('{}x/1'), ('[1,2]'), ('1:1/1'),
  ('{:}/1'), ('{,}/1'), ('{1,}/1'), ('{:1}/1'), ('{1:}/1'), ('{1a:1}/1'), ('{1:1a}/1'),
  ('{1:1,}/1'), ('{1:1,,2:1}/2'), ('{1:1 2:1}/2'), ('{1::1}/1'), ('{1:1:1}/1'), ('{1.5:1}/2'),
  ('{a:1}/1'), ('{1:hello,2:1}/2'), ('{1:1}}/1'), ('{{1:1}/1'), ('{1:1}/1}'), ('{1:1e}/1'),
  ('{1:--1}/1'), ('{1:.}/1'), ('{1:1;2:2}/2'), ('{1 : 1 , }/1'), ('{1:1}/'), ('{1:1}'),
  ('{1:1/1'), ('{- 1:1}/1')
) t(lit);

-- text input: values (NaN, infinities, float4 range) and indices / dimensions
SELECT lit, pg_temp.try(format('SELECT %L::sparsevec', lit)) AS result FROM (VALUES
  ('{1:NaN,2:1}/2'), ('{1:nan}/1'), ('{1:-NaN}/1'), ('{1:Infinity,2:1}/2'), ('{1:-Infinity}/1'),
  ('{1:inf}/1'), ('{1:-inf}/1'), ('{1:4e38,2:1}/2'), ('{1:-4e38,2:1}/2'), ('{1:3.5e38}/1'),
  ('{1:1e-46,2:1}/2'), ('{1:-1e-46,2:1}/2'), ('{1:1e99999}/1'), ('{1:0e99999}/1'),
  ('{1:NaN}/0'), ('{1:1,1:1}/2'), ('{1:1,2:1,1:1}/2'), ('{2:1,1:1,2:3}/2'), ('{1:1,1:0}/2'),
  ('{0:1}/1'), ('{-1:1}/1'), ('{2:1}/1'), ('{2147483647:1}/1'), ('{2147483648:1}/1'),
  ('{-2147483648:1}/1'), ('{-2147483649:1}/1'), ('{99999999999999999999:1}/1'),
  ('{1000000001:1}/1000000001'), ('{5:1,1:1,1:2}/3'), ('{0:0}/1'), ('{7:0}/3'),
  ('{}/0'), ('{}/-1'), ('{}/1000000001'), ('{}/2147483648'), ('{}/-2147483649'),
  ('{}/9223372036854775808'), ('{}/-9223372036854775809'), ('{1:1}/0')
) t(lit);

-- at most 16000 non-zero elements: the literal's comma count is checked first (as pgvector,
-- even when the elements are zeros)
SELECT pg_temp.try($$SELECT ('{' || string_agg(i || ':1', ',') || '}/16000')::sparsevec
                     FROM generate_series(1, 16000) i$$) AS nnz_16000,
       pg_temp.try($$SELECT ('{' || string_agg(i || ':1', ',') || '}/16001')::sparsevec
                     FROM generate_series(1, 16001) i$$) AS nnz_16001,
       pg_temp.try($$SELECT ('{' || string_agg(i || ':0', ',') || '}/16001')::sparsevec
                     FROM generate_series(1, 16001) i$$) AS zeros_16001,
       pg_temp.try($$SELECT ('{1:1' || repeat(',', 20000) || '}/1')::sparsevec$$) AS commas;

-- the full report for a few of them
SELECT '{}/1a'::sparsevec;
SELECT '{1:1,1:1}/2'::sparsevec;
SELECT ''::sparsevec;
\set VERBOSITY sqlstate
SELECT '{1:hello}/1'::sparsevec;
SELECT '{1:NaN}/1'::sparsevec;
SELECT '{1:4e38}/1'::sparsevec;
SELECT '{}/1000000001'::sparsevec;
SELECT '{3:1}/2'::sparsevec;
\set VERBOSITY default

-- typmods
SELECT decl, pg_temp.try(format('SELECT NULL::%s', decl)) AS result FROM (VALUES
  ('sparsevec(0)'), ('sparsevec(-1)'), ('sparsevec(1000000001)'), ('sparsevec(1000000000)'),
  ('sparsevec(3, 2)'), ('sparsevec(''a'')'), ('sparsevec(2147483648)')
) t(decl);
SELECT pg_temp.try($$SELECT '{}/3'::sparsevec(2)$$) AS literal,
       pg_temp.try($$SELECT '{}/3'::sparsevec::sparsevec(2)$$) AS coercion,
       pg_temp.try($$SELECT sparsevec('{}/3', 2, false)$$) AS coercion_fn,
       pg_temp.try($$CREATE TEMP TABLE sv_bad (v sparsevec(0))$$) AS column_decl;
CREATE TEMP TABLE sv2 (v sparsevec(2));
SELECT pg_temp.try($$INSERT INTO sv2 VALUES ('{1:1}/3')$$) AS insert_literal,
       pg_temp.try($$INSERT INTO sv2 SELECT '{1:1}/3'::sparsevec$$) AS insert_value,
       pg_temp.try($$INSERT INTO sv2 VALUES ('{1:1}/2')$$) AS insert_ok;

-- distances and comparisons between different dimensions
SELECT f, pg_temp.try(format('SELECT %s(%L::sparsevec, %L::sparsevec)', f, '{1:1,2:2}/2', '{1:3}/1'))
  FROM unnest(ARRAY['l2_distance', 'inner_product', 'cosine_distance', 'l1_distance',
                    'sparsevec_l2_squared_distance', 'sparsevec_negative_inner_product']) f;
SELECT op, pg_temp.try(format('SELECT %L::sparsevec %s %L::sparsevec', '{}/2', op, '{}/3'))
  FROM unnest(ARRAY['<->', '<#>', '<=>', '<+>', '<', '=']) op;

-- casts: vector's limits when going to vector; arrays as pgvector checks them
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT '{}/16001'::sparsevec::vector$$),
  ($$SELECT '{16001:1}/16001'::sparsevec::vector$$),
  ($$SELECT '{1:1}/16000'::sparsevec::vector IS NOT NULL$$),
  ($$SELECT '{2:1.5,4:3.5}/5'::sparsevec::vector(4)$$),
  ($$SELECT '[0,1.5,0,3.5,0]'::vector::sparsevec(4)$$),
  ($$SELECT '{1,0,2}'::real[]::sparsevec(2)$$),
  ($$SELECT '{NULL}'::real[]::sparsevec$$),
  ($$SELECT '{1,NULL}'::integer[]::sparsevec$$),
  ($$SELECT '{NaN}'::real[]::sparsevec$$),
  ($$SELECT '{0,Infinity}'::real[]::sparsevec$$),
  ($$SELECT '{-Infinity}'::double precision[]::sparsevec$$),
  ($$SELECT '{4e38}'::double precision[]::sparsevec$$),
  ($$SELECT '{NaN}'::numeric[]::sparsevec$$),
  ($$SELECT '{Infinity}'::numeric[]::sparsevec$$),
  ($$SELECT '{1e39}'::numeric[]::sparsevec$$),
  ($$SELECT '{1e-46}'::numeric[]::sparsevec$$),
  ($$SELECT '{}'::real[]::sparsevec$$),
  ($$SELECT '{{1}}'::real[]::sparsevec$$),
  ($$SELECT '{{1,0},{0,1}}'::integer[]::sparsevec$$),
  ($$SELECT array_fill(1, ARRAY[16001])::sparsevec$$),
  ($$SELECT (array_fill(0, ARRAY[20000]) || 1)::sparsevec$$),
  ($$SELECT array_to_sparsevec(array_fill(1.5::real, ARRAY[16000]), 16000, true) IS NOT NULL$$)
) t(q);

-- binary input (COPY FROM ... FORMAT binary runs sparsevec_recv, with the column's typmod):
-- payloads built by hand, one field per file
CREATE FUNCTION pg_temp.payload(dim int, nnz int, unused int, idx int[], vals real[])
RETURNS bytea LANGUAGE sql AS $$
  SELECT int4send(dim) || int4send(nnz) || int4send(unused)
      || coalesce((SELECT string_agg(int4send(i), ''::bytea ORDER BY o)
                     FROM unnest(idx) WITH ORDINALITY u(i, o)), '')
      || coalesce((SELECT string_agg(float4send(x), ''::bytea ORDER BY o)
                     FROM unnest(vals) WITH ORDINALITY u(x, o)), '')
$$;
CREATE TEMP TABLE recv_any (v sparsevec);
CREATE TEMP TABLE recv_3 (v sparsevec(3));
SELECT current_setting('data_directory') || '/piramid_sparsevec_errors.bin' AS binfile \gset
-- writes a one-row, one-column COPY binary file holding the payload, loads it into tbl, and
-- returns the value read back or the error
CREATE FUNCTION pg_temp.try_recv(tbl text, payload bytea, path text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  lo oid;
  msg text;
  result text;
BEGIN
  lo := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || int4send(0) || int4send(0)
                         || int2send(1::int2) || int4send(length(payload)) || payload
                         || int2send(-1::int2));
  PERFORM lo_export(lo, path);
  PERFORM lo_unlink(lo);
  EXECUTE format('TRUNCATE %I', tbl);
  BEGIN
    EXECUTE format('COPY %I FROM %L WITH (FORMAT binary)', tbl, path);
    EXECUTE format('SELECT string_agg(v::text, '','') FROM %I', tbl) INTO result;
    RETURN 'ok: ' || result;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
    RETURN SQLSTATE || ': ' || msg;
  END;
END $$;
SELECT what, pg_temp.try_recv(tbl, p, :'binfile') AS result FROM (VALUES
  ('valid', 'recv_any', pg_temp.payload(5, 2, 0, '{0,2}', '{1.5,-2}')),
  ('valid empty', 'recv_any', pg_temp.payload(1, 0, 0, '{}', '{}')),
  ('valid, typmod 3', 'recv_3', pg_temp.payload(3, 1, 0, '{2}', '{7}')),
  ('typmod 3, dim 4', 'recv_3', pg_temp.payload(4, 0, 0, '{}', '{}')),
  ('dim 0', 'recv_any', pg_temp.payload(0, 0, 0, '{}', '{}')),
  ('dim -5', 'recv_any', pg_temp.payload(-5, 0, 0, '{}', '{}')),
  ('dim 1000000001', 'recv_any', pg_temp.payload(1000000001, 0, 0, '{}', '{}')),
  ('nnz -1', 'recv_any', pg_temp.payload(5, -1, 0, '{}', '{}')),
  ('nnz 16001', 'recv_any', pg_temp.payload(1000000000, 16001, 0, '{}', '{}')),
  ('nnz > dim', 'recv_any', pg_temp.payload(2, 3, 0, '{0,1,2}', '{1,1,1}')),
  ('unused 1', 'recv_any', pg_temp.payload(5, 0, 1, '{}', '{}')),
  ('unsorted', 'recv_any', pg_temp.payload(5, 2, 0, '{2,0}', '{1,1}')),
  ('duplicate', 'recv_any', pg_temp.payload(5, 2, 0, '{1,1}', '{1,1}')),
  ('index = dim', 'recv_any', pg_temp.payload(5, 1, 0, '{5}', '{1}')),
  ('index -1', 'recv_any', pg_temp.payload(5, 1, 0, '{-1}', '{1}')),
  ('index huge', 'recv_any', pg_temp.payload(5, 1, 0, '{2147483647}', '{1}')),
  ('zero value', 'recv_any', pg_temp.payload(5, 1, 0, '{0}', '{0}')),
  ('negative zero', 'recv_any', pg_temp.payload(5, 1, 0, '{0}', '{-0}')),
  ('NaN value', 'recv_any', pg_temp.payload(5, 1, 0, '{0}', '{NaN}')),
  ('infinite value', 'recv_any', pg_temp.payload(5, 2, 0, '{0,1}', '{1,-Infinity}')),
  ('values missing', 'recv_any', pg_temp.payload(5, 2, 0, '{0,1}', '{1}')),
  ('indices missing', 'recv_any', pg_temp.payload(5, 2, 0, '{0}', '{}')),
  ('header cut', 'recv_any', substring(pg_temp.payload(5, 0, 0, '{}', '{}') from 1 for 10)),
  ('empty payload', 'recv_any', ''::bytea),
  ('trailing bytes', 'recv_any', pg_temp.payload(5, 1, 0, '{0}', '{1}') || '\x00'::bytea)
) t(what, tbl, p);
