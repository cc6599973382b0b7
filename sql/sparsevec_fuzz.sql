-- sparsevec_in under random and mutated literals: every input either fails with a data
-- exception (SQLSTATE class 22) or 54000, or parses to a value whose text output parses back
-- to the same value and the same text. Random valid literals must also equal the dense vector
-- built independently from the same elements. Deterministic (setseed).
SELECT setseed(0.125);

CREATE FUNCTION pg_temp.rnd(n int) RETURNS int LANGUAGE sql VOLATILE AS
  $$ SELECT floor(random() * n)::int $$;

-- one random element of a literal: index and value spelled in the many ways input allows
CREATE FUNCTION pg_temp.rnd_value() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RETURN CASE pg_temp.rnd(8)
    WHEN 0 THEN (pg_temp.rnd(19) - 9)::text
    WHEN 1 THEN round((random() * 200 - 100)::numeric, pg_temp.rnd(6))::text
    WHEN 2 THEN (random() - 0.5)::float8::text
    WHEN 3 THEN (pg_temp.rnd(9) + 1)::text || 'e' || (pg_temp.rnd(90) - 45)::text
    WHEN 4 THEN '-' || (pg_temp.rnd(9) + 1)::text || '.' || pg_temp.rnd(1000)::text || 'E+' || pg_temp.rnd(39)::text
    WHEN 5 THEN '0'
    WHEN 6 THEN '.' || pg_temp.rnd(100)::text
    ELSE (pg_temp.rnd(100000))::text || '.'
  END;
END $$;

-- mutations: insert, delete, replace, duplicate a slice, or truncate
CREATE FUNCTION pg_temp.mutate(s text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  alphabet constant text := E'{}/:,.-+eE0123456789 \tnaNiIfxX';
  c text := substr(alphabet, 1 + pg_temp.rnd(length(alphabet)), 1);
  pos int := 1 + pg_temp.rnd(length(s) + 1);
  len int := 1 + pg_temp.rnd(4);
BEGIN
  RETURN CASE pg_temp.rnd(5)
    WHEN 0 THEN substr(s, 1, pos - 1) || c || substr(s, pos)
    WHEN 1 THEN substr(s, 1, pos - 1) || substr(s, pos + len)
    WHEN 2 THEN substr(s, 1, pos - 1) || c || substr(s, pos + 1)
    WHEN 3 THEN substr(s, 1, pos - 1) || substr(s, pos, len) || substr(s, pos)
    ELSE substr(s, 1, pos - 1)
  END;
END $$;

CREATE TEMP TABLE fuzz_result (kind text, lit text, outcome text, detail text);

DO $$
DECLARE
  dim int;
  n int;
  idx int[];
  lit text;
  dense text;
  v sparsevec;
  v2 sparsevec;
  st text;
  msg text;
  seeds text[] := ARRAY['{1:1.5,3:3.5}/5', '{}/1', '{2:-1e-3,1:4e2}/9', ' { 1 : 1 } / 1 ',
                        '{1000000000:1}/1000000000', '{1:NaN}/1', '{1:1,2:2,3:3}/3'];
BEGIN
  -- random valid literals (indices in random order, zeros included), compared with the dense
  -- vector built from the same elements
  FOR iter IN 1..1500 LOOP
    dim := 1 + pg_temp.rnd(40);
    n := pg_temp.rnd(dim + 1);
    SELECT array_agg(i ORDER BY random()) INTO idx
      FROM (SELECT i FROM generate_series(1, dim) i ORDER BY random() LIMIT n) s;
    lit := '{' || coalesce((SELECT string_agg(i || ':' || pg_temp.rnd_value(), ',') FROM unnest(idx) i), '')
           || '}/' || dim;
    BEGIN
      v := lit::sparsevec;
      -- the dense form: every listed element at its place, zeros elsewhere
      SELECT '[' || string_agg(coalesce(e.val, '0'), ',' ORDER BY g) || ']' INTO dense
        FROM generate_series(1, dim) g
        LEFT JOIN (SELECT split_part(x, ':', 1)::int AS i, split_part(x, ':', 2) AS val
                     FROM unnest(string_to_array(substr(lit, 2, length(lit) - length('}/' || dim) - 1), ',')) x
                    WHERE x <> '') e ON e.i = g;
      IF v::vector <> dense::vector OR v <> dense::vector::sparsevec THEN
        INSERT INTO fuzz_result VALUES ('valid', lit, 'differs from dense', dense);
      ELSE
        INSERT INTO fuzz_result VALUES ('valid', lit, 'ok', NULL);
      END IF;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
      -- only float4 range errors are expected here (e.g. 9e45)
      INSERT INTO fuzz_result VALUES ('valid', lit, st, msg);
    END;
  END LOOP;

  -- mutated literals: one to four mutations of a seed or of a random valid literal
  FOR iter IN 1..3500 LOOP
    IF pg_temp.rnd(2) = 0 THEN
      lit := seeds[1 + pg_temp.rnd(array_length(seeds, 1))];
    ELSE
      dim := 1 + pg_temp.rnd(12);
      lit := '{' || coalesce((SELECT string_agg(i || ':' || pg_temp.rnd_value(), ',')
                                FROM generate_series(1, dim) i WHERE random() < 0.5), '') || '}/' || dim;
    END IF;
    FOR m IN 0..pg_temp.rnd(4) LOOP
      lit := pg_temp.mutate(lit);
    END LOOP;
    BEGIN
      v := lit::sparsevec;
      v2 := v::text::sparsevec;
      IF v2 <> v OR v2::text <> v::text THEN
        INSERT INTO fuzz_result VALUES ('mutated', lit, 'no round trip', v::text);
      ELSE
        INSERT INTO fuzz_result VALUES ('mutated', lit, 'ok', NULL);
      END IF;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
      INSERT INTO fuzz_result VALUES ('mutated', lit, st, msg);
    END;
  END LOOP;
END $$;

-- totals, and the outcomes seen (a bad outcome would be listed with a literal below)
SELECT kind, count(*) AS literals, count(*) FILTER (WHERE outcome = 'ok') > 100 AS many_ok,
       count(*) FILTER (WHERE outcome LIKE '22%' OR outcome = '54000') AS errors
  FROM fuzz_result GROUP BY kind ORDER BY kind;
SELECT kind, outcome, count(*) > 0 AS seen FROM fuzz_result
 WHERE outcome = 'ok' OR outcome LIKE '22%' OR outcome = '54000'
 GROUP BY kind, outcome ORDER BY kind, outcome;
-- failures: an error outside class 22 / 54000, or a value that does not round-trip
SELECT kind, lit, outcome, detail FROM fuzz_result
 WHERE NOT (outcome = 'ok' OR outcome LIKE '22%' OR outcome = '54000')
    OR (kind = 'valid' AND outcome NOT IN ('ok', '22003'))
 ORDER BY kind, lit;
