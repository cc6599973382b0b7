-- vector: text and binary I/O, typmod, COPY (text and binary) round trips.

-- text input: whitespace, JSON number forms, signs
SELECT '[1,2,3]'::vector;
SELECT ' [ 1 ,	2 ,
3 ] '::vector;
SELECT '[-1,+2,3.]'::vector, '[.5,-.25]'::vector;
SELECT '[1e-7,-0,1.5E+20,1E3,2e-0]'::vector;
SELECT '[0,-0.0,0e10]'::vector;

-- text output: shortest exact float4 form, no spaces
SELECT '[16777216,16777217,3.4028235e38,-3.4028235e38]'::vector;
SELECT '[1.17549435e-38,1e-45,1.4e-45,0.1,1.2345678,123456789]'::vector;
SELECT '[100000,1000000,1e15,1e16,0.0001,0.00001]'::vector;

-- output does not depend on extra_float_digits
SET extra_float_digits = -3;
SELECT '[0.1,1.2345678,3.4028235e38]'::vector;
SET extra_float_digits = 0;
SELECT '[0.1,1.2345678,3.4028235e38]'::vector;
RESET extra_float_digits;

-- input rounds decimal to float4 in one step (via double it would tie and round down to 1)
SELECT '[1.0000000596046447753907]'::vector AS one_step,
       '1.0000000596046447753907'::float8::real AS via_double;
-- below the smallest subnormal rounds to a signed zero, as strtof does
SELECT '[1e-50,-1e-50,7e-46]'::vector;

-- typmod
SELECT '[1,2,3]'::vector(3);
SELECT format_type('vector'::regtype, 3), format_type('vector'::regtype, -1),
       format_type('vector'::regtype, 16000);
CREATE TABLE vec_io (id int, v vector(3), w vector);
SELECT attname, atttypmod, format_type(atttypid, atttypmod)
  FROM pg_attribute WHERE attrelid = 'vec_io'::regclass AND attnum > 0 ORDER BY attnum;
\set VERBOSITY sqlstate
INSERT INTO vec_io VALUES (0, '[1,2]', '[1]');
INSERT INTO vec_io VALUES (0, '[1,2,3,4]', '[1]');
\set VERBOSITY default
INSERT INTO vec_io VALUES (0, '[1,2]', '[1]');
-- through a parameter (typmod -1 at input), the length-coercion cast still applies
PREPARE ins(vector) AS INSERT INTO vec_io VALUES (0, $1, $1);
EXECUTE ins('[1,2]');
DEALLOCATE ins;
-- and through an UPDATE and an array-typed value
INSERT INTO vec_io VALUES (1, '[1,2,3]', '[1,2]');
UPDATE vec_io SET v = w WHERE id = 1;
SELECT '{"[1,2,3]","[4,5,6]"}'::vector(3)[];
SELECT '{"[1,2,3]"}'::vector(2)[];
SELECT '[1,2,3]'::vector::vector(2);
SELECT CAST('[1,2]'::vector AS vector(2));

-- arrays of vectors
SELECT unnest('{"[1,2,3]", "[4,5,6]"}'::vector[]);

-- binary send: uint16 dim, uint16 unused (0), float4 values, network byte order
SELECT vector_send('[1,2]'), vector_send('[-0,1e-45,3.4028235e38]');

-- COPY text round trip (and typmod enforcement in COPY: the input function gets the typmod)
INSERT INTO vec_io VALUES (2, '[1.5,-2.25,1e-07]', '[1e+20]'), (3, '[0,-0,16777216]', '[1,2,3,4,5]');
COPY vec_io (id, v, w) FROM STDIN;
4	[4,5,6]	[7]
5	  [ 0.1 , 0.2 , 0.3 ]  	\N
\.
COPY vec_io (id, v) FROM STDIN;
6	[1,2]
\.
COPY vec_io TO STDOUT;
CREATE TABLE vec_io_copy (LIKE vec_io);
SELECT current_setting('data_directory') || '/piramid_vector_io.txt' AS txtfile,
       current_setting('data_directory') || '/piramid_vector_io.bin' AS binfile \gset
COPY vec_io TO :'txtfile';
COPY vec_io_copy FROM :'txtfile';
SELECT count(*) AS same_rows FROM vec_io a JOIN vec_io_copy b
  ON a.id = b.id AND a.v = b.v AND a.w IS NOT DISTINCT FROM b.w;

-- COPY binary round trip: bit-exact (compare the send bytes, which tell -0 from 0)
TRUNCATE vec_io_copy;
COPY vec_io TO :'binfile' WITH (FORMAT binary);
COPY vec_io_copy FROM :'binfile' WITH (FORMAT binary);
SELECT count(*) AS same_rows FROM vec_io a JOIN vec_io_copy b
  ON a.id = b.id AND vector_send(a.v) = vector_send(b.v)
 AND vector_send(a.w) IS NOT DISTINCT FROM vector_send(b.w);
-- binary COPY into vector(2): recv gets the column typmod
CREATE TABLE vec_io_2 (id int, v vector(2), w vector);
COPY vec_io_2 FROM :'binfile' WITH (FORMAT binary);

-- binary recv through COPY FROM with crafted bytes. copy_cmd wraps one vector field in a
-- complete COPY BINARY stream (signature, flags, header extension, one 1-field tuple, trailer)
-- and returns a shell command printing it.
CREATE FUNCTION pg_temp.copy_cmd(field bytea) RETURNS text LANGUAGE sql AS $$
  SELECT 'echo ' || translate(encode(
      '\x5047434f50590aff0d0a00'::bytea || '\x00000000'::bytea || '\x00000000'::bytea
      || '\x0001'::bytea || int4send(length(field)) || field || '\xffff'::bytea,
      'base64'), E'\n', '') || ' | base64 -d'
$$;
CREATE TABLE vec_recv (v vector);
CREATE TABLE vec_recv_3 (v vector(3));
-- a well-formed field: dim 3, unused 0, [1, -2, 0.5]
SELECT pg_temp.copy_cmd('\x000300003f800000c00000003f000000') AS cmd \gset
COPY vec_recv FROM PROGRAM :'cmd' WITH (FORMAT binary);
COPY vec_recv_3 FROM PROGRAM :'cmd' WITH (FORMAT binary);
SELECT v FROM vec_recv UNION ALL SELECT v FROM vec_recv_3;
-- same bytes into vector(2)
CREATE TABLE vec_recv_2 (v vector(2));
\set VERBOSITY sqlstate
COPY vec_recv_2 FROM PROGRAM :'cmd' WITH (FORMAT binary);
\set VERBOSITY default
\set SHOW_CONTEXT never
COPY vec_recv_2 FROM PROGRAM :'cmd' WITH (FORMAT binary);
\set SHOW_CONTEXT errors
SELECT count(*) FROM vec_recv_2;

DROP TABLE vec_io, vec_io_copy, vec_io_2, vec_recv, vec_recv_3, vec_recv_2;
