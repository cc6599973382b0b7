-- halfvec: text and binary I/O, rounding to half precision, limits, typmod, COPY round trips.
-- halfvec_send shows the exact half bits (uint16 dim, uint16 unused, then each half, network
-- order), so every value below is checked bit for bit against hand-computed encodings.

-- text input: whitespace, number forms, signs; output is the shortest decimal that reads back
-- as the same float4 (the half's value widened to float, as pgvector prints it)
SELECT '[1,2,3]'::halfvec;
SELECT ' [ 1 ,	2 ,
3 ] '::halfvec;
SELECT '[-1,+2,3.]'::halfvec, '[.5,-.25]'::halfvec, '[1E3,2e-0,1.5e+2]'::halfvec;
SELECT '[1.5,2.3333,-0]'::halfvec, halfvec_send('[1.5,2.3333,-0]');
-- 2.3333 -> 2 * (1 + 171/1024) = 2.333984375 (0x40ab); -0 keeps its sign (0x8000)

-- limits: the largest finite half, the smallest subnormal (2^-24), the largest subnormal
-- (1023 * 2^-24), the smallest normal (2^-14), the halves next to 1
SELECT '[65504,-65504]'::halfvec, halfvec_send('[65504,-65504]');
SELECT '[6e-8,-6e-8,5.9604645e-08]'::halfvec, halfvec_send('[6e-8,-6e-8,5.9604645e-08]');
SELECT '[6.0975552e-05,6.1035156e-05]'::halfvec, halfvec_send('[6.0975552e-05,6.1035156e-05]');
SELECT '[0.99951172,1,1.0009765625]'::halfvec, halfvec_send('[0.99951172,1,1.0009765625]');
-- every subnormal is k * 2^-24: 3 * 2^-24 = 1.7881393e-07, 512 * 2^-24 = 2^-15
SELECT '[1.7881393e-07,3.0517578e-05,-1.1920929e-07]'::halfvec,
       halfvec_send('[1.7881393e-07,3.0517578e-05,-1.1920929e-07]');

-- rounding to nearest, ties to even
--   1 + 2^-11 = 1.00048828125 is halfway between 1 (0x3c00) and 1 + 2^-10 (0x3c01): even, 1
--   1 + 3 * 2^-11 = 1.00146484375 is halfway between 0x3c01 and 0x3c02: even, 0x3c02
--   1 + 1.5 * 2^-11 = 1.000732421875 is above halfway: 0x3c01
--   2049 is halfway between 2048 and 2050 (spacing 2 in [2048, 4096)): 2048; 2051: 2052
--   65519 is below the halfway point 65520 between 65504 and 65536: 65504
--   2^-25 = 2.98023223876953125e-08 is halfway between 0 and 2^-24: even, 0; just above: 2^-24
--   1e-8 and 1e-46 round to (signed) zero
SELECT halfvec_send('[1.00048828125,1.00146484375,1.000732421875]') AS ties_near_one,
       halfvec_send('[2049,2051,65519,-65519]') AS ties_large,
       halfvec_send('[2.98023223876953125e-08,2.9802326e-08,1e-8,-1e-8,1e-46]') AS tiny;
SELECT '[1.00048828125,1.00146484375,1.000732421875,2049,2051,65519,2.9802326e-08,1e-8,-1e-8]'::halfvec;
-- decimal -> float4 -> half, the two steps pgvector takes: 1 + 2^-11 + 2^-40 is above the tie,
-- but its nearest float4 is the tie itself, which then rounds to even (1)
SELECT '[1.0004882812509094947017729282379150390625]'::halfvec AS two_steps,
       '1.0004882812509094947017729282379150390625'::real = 1.00048828125::real AS float_is_tie;

-- every finite half, both signs: built from its exact value (sign, exponent, mantissa), it has
-- the expected encoding, its text form reads back to the same bits, the printed numbers are its
-- value, and the cast to real[] is exact. 62 rows of 1024 halves = all 63488 finite halves.
CREATE TEMP TABLE all_halves AS
SELECT s, e,
       array_agg(((-1.0::float8) ^ s) * CASE WHEN e = 0 THEN m * 2.0::float8 ^ -24
                                             ELSE (1024 + m) * 2.0::float8 ^ (e - 25) END
                 ORDER BY m) AS vals,
       string_agg(lpad(to_hex((s << 15) | (e << 10) | m), 4, '0'), '' ORDER BY m) AS hex
  FROM generate_series(0, 1) s, generate_series(0, 30) e, generate_series(0, 1023) m
 GROUP BY s, e;
ALTER TABLE all_halves ADD COLUMN h halfvec;
UPDATE all_halves SET h = vals::halfvec;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE encode(halfvec_send(h), 'hex') = '04000000' || hex) AS bits_ok,
       count(*) FILTER (WHERE halfvec_send(h::text::halfvec) = halfvec_send(h)) AS text_round_trip,
       count(*) FILTER (WHERE string_to_array(btrim(h::text, '[]'), ',')::real[] = vals::real[])
         AS printed_value_ok,
       count(*) FILTER (WHERE h::real[] = vals::real[]) AS to_real_ok,
       count(*) FILTER (WHERE halfvec_send(vals::real[]::halfvec) = halfvec_send(h)) AS from_real_ok
  FROM all_halves;
-- a few of them as printed
SELECT (string_to_array(btrim(h::text, '[]'), ','))[m + 1] AS printed, s, e, m
  FROM all_halves, unnest(ARRAY[0, 1, 341, 1023]) m
 WHERE e IN (0, 1, 13, 15, 30) AND s = 0 ORDER BY e, m;

-- output does not depend on extra_float_digits
SET extra_float_digits = -3;
SELECT '[0.1,2.3333,65504]'::halfvec;
RESET extra_float_digits;

-- typmod
SELECT '[1,2,3]'::halfvec(3);
SELECT format_type('halfvec'::regtype, 3), format_type('halfvec'::regtype, -1),
       format_type('halfvec'::regtype, 16000);
SELECT halfvec_typmod_in('{7}'::cstring[]), halfvec_typmod_out(7),
       halfvec_typmod_out(-1)::text = '' AS no_typmod;
CREATE TABLE half_io (id int, v halfvec(3), w halfvec);
SELECT attname, atttypmod, format_type(atttypid, atttypmod)
  FROM pg_attribute WHERE attrelid = 'half_io'::regclass AND attnum > 0 ORDER BY attnum;
\set VERBOSITY sqlstate
INSERT INTO half_io VALUES (0, '[1,2]', '[1]');
\set VERBOSITY default
-- through a parameter (typmod -1 at input), the length-coercion cast still applies
PREPARE ins(halfvec) AS INSERT INTO half_io VALUES (0, $1, $1);
EXECUTE ins('[1,2]');
DEALLOCATE ins;
SELECT '{"[1,2,3]","[4,5,6]"}'::halfvec(3)[];
SELECT '[1,2,3]'::halfvec::halfvec(3), CAST('[1,2]'::halfvec AS halfvec(2));

-- arrays of halfvecs
SELECT unnest('{"[1,2,3]", "[4,5,6.0001]"}'::halfvec[]);

-- 16000 dimensions, the most a halfvec holds
SELECT vector_dims(h), length(h::text), h::text = '[' || repeat('0.5,', 15999) || '0.5]' AS text_ok,
       length(halfvec_send(h)) AS send_bytes
  FROM (SELECT ('[' || repeat('0.5,', 15999) || '0.5]')::halfvec AS h) s;

-- the type: variable length, int4 aligned, STORAGE external (as pgvector: not compressed, so
-- a long value is stored out of line and read back without decompression)
SELECT typlen, typalign, typstorage, typinput, typoutput, typreceive, typsend, typmodin, typmodout
  FROM pg_type WHERE typname = 'halfvec';
CREATE TABLE half_toast (v halfvec);
INSERT INTO half_toast SELECT array_fill(1.5, ARRAY[8000])::real[]::halfvec;
SELECT pg_column_size(v) AS stored_bytes, vector_dims(v) FROM half_toast;

-- COPY text round trip (and typmod enforcement in COPY: the input function gets the typmod)
INSERT INTO half_io VALUES (2, '[1.5,-2.25,6e-08]', '[65504]'), (3, '[0,-0,2049]', '[1,2,3,4,5]');
COPY half_io (id, v, w) FROM STDIN;
4	[4,5,6]	[7]
5	  [ 0.1 , 0.2 , 0.3 ]  	\N
\.
COPY half_io TO STDOUT;
CREATE TABLE half_io_copy (LIKE half_io);
SELECT current_setting('data_directory') || '/piramid_halfvec_io.txt' AS txtfile,
       current_setting('data_directory') || '/piramid_halfvec_io.bin' AS binfile \gset
COPY half_io TO :'txtfile';
COPY half_io_copy FROM :'txtfile';
SELECT count(*) AS same_rows FROM half_io a JOIN half_io_copy b
  ON a.id = b.id AND halfvec_send(a.v) = halfvec_send(b.v)
 AND halfvec_send(a.w) IS NOT DISTINCT FROM halfvec_send(b.w);

-- COPY binary round trip: bit-exact, and the file holds exactly the send bytes
TRUNCATE half_io_copy;
COPY half_io TO :'binfile' WITH (FORMAT binary);
COPY half_io_copy FROM :'binfile' WITH (FORMAT binary);
SELECT count(*) AS same_rows FROM half_io a JOIN half_io_copy b
  ON a.id = b.id AND halfvec_send(a.v) = halfvec_send(b.v)
 AND halfvec_send(a.w) IS NOT DISTINCT FROM halfvec_send(b.w);
COPY (SELECT '[1,-2,0.5]'::halfvec) TO :'binfile' WITH (FORMAT binary);
-- signature, flags, header extension, 1 field of 10 bytes: dim 3, unused 0, 0x3c00 0xc000 0x3800
SELECT encode(pg_read_binary_file(:'binfile'), 'hex') AS copy_binary_stream;
-- binary COPY into halfvec(2): recv gets the column typmod
CREATE TABLE half_io_2 (v halfvec(2));
\set VERBOSITY sqlstate
COPY half_io_2 FROM :'binfile' WITH (FORMAT binary);
\set VERBOSITY default

-- binary recv of crafted bytes through COPY FROM PROGRAM (valid payloads here; corrupt ones in
-- halfvec_errors). copy_cmd wraps one field in a complete COPY BINARY stream.
CREATE FUNCTION pg_temp.copy_cmd(field bytea) RETURNS text LANGUAGE sql AS $$
  SELECT 'echo ' || translate(encode(
      '\x5047434f50590aff0d0a00'::bytea || '\x00000000'::bytea || '\x00000000'::bytea
      || '\x0001'::bytea || int4send(length(field)) || field || '\xffff'::bytea,
      'base64'), E'\n', '') || ' | base64 -d'
$$;
CREATE TABLE half_recv (id serial, v halfvec);
-- dim 4: 2^-24, -1023 * 2^-24, 65504, -0
SELECT pg_temp.copy_cmd('\x00040000000183ff7bff8000') AS cmd \gset
COPY half_recv (v) FROM PROGRAM :'cmd' WITH (FORMAT binary);
SELECT v, halfvec_send(v) FROM half_recv;
-- recv(send(v)) = v for every finite half, through a binary COPY out and back in
CREATE TABLE half_all_copy (s int, e int, h halfvec);
COPY (SELECT s, e, h FROM all_halves) TO :'binfile' WITH (FORMAT binary);
COPY half_all_copy FROM :'binfile' WITH (FORMAT binary);
SELECT count(*) AS same_bits FROM all_halves a JOIN half_all_copy b
    ON a.s = b.s AND a.e = b.e AND halfvec_send(a.h) = halfvec_send(b.h);

DROP TABLE half_io, half_io_copy, half_io_2, half_recv, half_toast, half_all_copy;
