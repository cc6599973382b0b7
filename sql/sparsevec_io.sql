-- sparsevec: text input and output, typmod, binary send/recv (pgvector's formats).

-- text: 1-based indices, any order, whitespace, zeros dropped, shortest float4 output
SELECT lit, lit::sparsevec AS value FROM (VALUES
  ('{1:1.5,3:3.5}/5'), ('{1:-2,3:-4}/5'), ('{1:2.,3:4.}/5'), (' { 1 : 1.5 ,  3  :  3.5  } / 5 '),
  ('{3:3,1:1,2:2}/3'), ('{1:0,2:1,3:0}/3'), ('{1:0,1:5}/2'),
  ('{1:-0}/1'), ('{}/1'), ('{ }/1'), ('{}/5'), ('{1:+1.25e+1}/1'), ('{+2:1}/2'), ('{1:.5}/1'),
  ('{1:1.23456}/1'), ('{1:0.1}/1'), ('{1:3.4028235e38,2:-3.4028235e38}/2'),
  ('{1:1.5e-38,2:-1.5e-38}/2'), ('{1:1e-45}/1'), ('{1:123456789}/1'), ('{1:0x10}/1'),
  ('{1000000000:1}/1000000000'), ('{1:1,1000000000:-1}/1000000000'), ('{}/+7'), ('{01:1}/02')
) t(lit);
-- every whitespace character Postgres' array input accepts: tab, newline, vertical tab, form
-- feed, carriage return, space
SELECT (chr(9) || '{' || chr(10) || '1' || chr(11) || ':' || chr(12) || '1' || chr(13) || '}' || chr(32)
        || '/' || chr(9) || '2' || chr(10))::sparsevec AS all_whitespace;

-- the output parses back to the same value, and is independent of extra_float_digits
SET extra_float_digits = -3;
SELECT '{1:0.1,2:3.14159265,3:1e-40}/3'::sparsevec AS efd_minus3;
RESET extra_float_digits;
SELECT v::text::sparsevec = v AS round_trip, v::text = (v::text::sparsevec)::text AS same_text
  FROM (VALUES ('{1:0.1,2:3.14159265,3:1e-40,7:-2.5e38}/9'::sparsevec)) t(v);

-- typmod sparsevec(n): declared columns, casts and the length-coercion cast
CREATE TEMP TABLE sv3 (v sparsevec(3));
INSERT INTO sv3 VALUES ('{1:1}/3'), ('{}/3'), (NULL);
SELECT v FROM sv3 ORDER BY v NULLS LAST;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'sv3'::regclass AND attname = 'v';
SELECT '{2:2}/3'::sparsevec(3) AS cast_ok, pg_typeof('{}/1'::sparsevec);
SELECT format_type('sparsevec'::regtype, 1000000000) AS max_typmod;

-- binary: sparsevec_send's bytes, built by hand (int32 dim, nnz, unused; 0-based indices;
-- float4 values; network order)
SELECT sparsevec_send('{2:1.5,4:3.5}/5') AS send_bytes,
       sparsevec_send('{2:1.5,4:3.5}/5') = '\x00000005000000020000000000000001000000033fc0000040600000'::bytea
         AS matches_hand_encoding,
       sparsevec_send('{}/1') AS empty;

-- binary round trip through COPY (FORMAT binary): recv reads what send writes
CREATE TEMP TABLE sv_bin (id int, v sparsevec);
INSERT INTO sv_bin VALUES (1, '{1:1.5,3:-3.5}/5'), (2, '{}/1'), (3, '{1000000000:1e-45}/1000000000'),
  (4, '{1:3.4028235e38,2:-1e-30,16000:7}/16000'), (5, NULL);
INSERT INTO sv_bin SELECT 6, ('{' || string_agg(i || ':' || i, ',') || '}/20000')::sparsevec
  FROM generate_series(1, 16000) i;
SELECT current_setting('data_directory') || '/piramid_sparsevec_io.bin' AS binfile \gset
COPY sv_bin TO :'binfile' WITH (FORMAT binary);
CREATE TEMP TABLE sv_bin2 (LIKE sv_bin);
COPY sv_bin2 FROM :'binfile' WITH (FORMAT binary);
SELECT a.id, a.v IS NOT DISTINCT FROM b.v AS same, a.v::text IS NOT DISTINCT FROM b.v::text AS same_text
  FROM sv_bin a JOIN sv_bin2 b USING (id) ORDER BY a.id;
