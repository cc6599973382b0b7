-- halfvec_in parser fuzz: a few thousand random and mutated literals (deterministic: setseed).
-- Each outcome is checked against an independent oracle:
--   * a literal matching the grammar  \s* [ \s* (num (\s* , \s* num)*)? \s* ] \s*  with
--     num = [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?
--     must be accepted with exactly the halves that Postgres' own float8 parser gives for each
--     element (rounded to float4, then to half), unless an element is beyond the half range
--     (then 22003) or there is no element (then 22000);
--   * any other literal must be refused with 22P02 (syntax) or 22000 (NaN / Infinity words),
--     or with 22003 when it holds a number beyond the half range (elements are read left to
--     right, so such a number can come before the syntax error);
--   * an accepted literal's text output reads back to the same bits.
-- Every error must be one of 22P02, 22003, 22000, 54000, and the server must stay up.

-- The expected half (as real) of one element, or NULL when it is beyond the half range.
CREATE FUNCTION pg_temp.expect_half(e text) RETURNS real LANGUAGE plpgsql AS $$
DECLARE
  d float8;
  f real;
BEGIN
  BEGIN
    d := e::float8;
  EXCEPTION WHEN numeric_value_out_of_range THEN
    -- beyond the double range: a tiny value rounds to a signed zero, a huge one is too large
    IF e ~* 'e-' THEN
      RETURN CASE WHEN e LIKE '-%' THEN '-0'::real ELSE '0'::real END;
    END IF;
    RETURN NULL;
  END;
  IF abs(d) < 1e-30 THEN
    -- far below the smallest half subnormal: a zero with the literal's sign
    RETURN CASE WHEN e LIKE '-%' THEN '-0'::real ELSE '0'::real END;
  END IF;
  IF abs(d) > 1e30 THEN
    RETURN NULL;
  END IF;
  f := d::real;
  IF abs(f) >= 65520 THEN
    RETURN NULL;
  END IF;
  RETURN f;
END $$;

CREATE FUNCTION pg_temp.random_char() RETURNS text LANGUAGE sql AS $$
  SELECT (ARRAY['[', ']', ',', '.', 'e', 'E', '+', '-', '0', '1', '2', '5', '6', '9', ' ', E'\t',
                E'\n', 'n', 'a', 'i', 'f', 'N', 'I', 'F', 'x', '_', '{', '}', ';', 'é', '"',
                '3', '4', '7', '8'])[1 + floor(random() * 35)::int]
$$;

-- A random number in one of the accepted forms, sometimes beyond the half range or tiny.
CREATE FUNCTION pg_temp.random_number() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  s text := (ARRAY['', '-', '+'])[1 + floor(random() * 3)::int];
  k int := floor(random() * 5)::int;
BEGIN
  IF k = 0 THEN
    s := s || floor(random() * 66000)::int;
  ELSIF k = 1 THEN
    s := s || floor(random() * 1000)::int || '.' || lpad(floor(random() * 100000)::int::text, 5, '0');
  ELSIF k = 2 THEN
    s := s || '.' || floor(random() * 1000)::int;
  ELSIF k = 3 THEN
    s := s || floor(random() * 100)::int || '.';
  ELSE
    s := s || floor(random() * 10)::int || '.' || floor(random() * 1000)::int
           || (ARRAY['e', 'E'])[1 + floor(random() * 2)::int]
           || (ARRAY['', '-', '+'])[1 + floor(random() * 3)::int]
           || floor(random() * 7)::int;
  END IF;
  RETURN s;
END $$;

CREATE FUNCTION pg_temp.random_space() RETURNS text LANGUAGE sql AS $$
  SELECT (ARRAY['', '', '', ' ', '  ', E'\t', E'\n', E' \r\n'])[1 + floor(random() * 8)::int]
$$;

CREATE FUNCTION pg_temp.mutate(lit text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  n int := 1 + floor(random() * 4)::int;
  p int;
  q int;
BEGIN
  FOR i IN 1 .. n LOOP
    p := floor(random() * (length(lit) + 1))::int;
    CASE floor(random() * 5)::int
      WHEN 0 THEN lit := left(lit, p) || pg_temp.random_char() || substr(lit, p + 1);
      WHEN 1 THEN lit := left(lit, p) || substr(lit, p + 2);
      WHEN 2 THEN lit := left(lit, p) || pg_temp.random_char() || substr(lit, p + 2);
      WHEN 3 THEN
        q := floor(random() * 6)::int;
        lit := left(lit, p) || substr(lit, p + 1, q) || substr(lit, p + 1);
      ELSE lit := left(lit, p) || substr(lit, p + 2, 1) || substr(lit, p + 1, 1) || substr(lit, p + 3);
    END CASE;
  END LOOP;
  RETURN lit;
END $$;

CREATE TEMP TABLE fuzz_lits (id serial, kind text, lit text);
SELECT setseed(0.42);
-- 1200 mutations of well-formed literals
INSERT INTO fuzz_lits (kind, lit)
SELECT 'mutated', pg_temp.mutate((ARRAY['[1,2,3]', '[1.5,-2.25,6e-8]', '[ 65504 , -0 ]',
                                        '[0.1,1e-5,3.3333]', '[65519,65520]', '[1e4,2E-3,.5,5.]',
                                        '[nan]', '[inf,1]', '[]', '  [+7 ,	-.5e+1]  '])[1 + i % 10])
  FROM generate_series(1, 1200) i;
-- 1200 generated lists of numbers, with random whitespace (some with a value too large)
INSERT INTO fuzz_lits (kind, lit)
SELECT 'generated', pg_temp.random_space() || '[' || pg_temp.random_space()
       || (SELECT string_agg(pg_temp.random_number(), pg_temp.random_space() || ',' || pg_temp.random_space())
             FROM generate_series(0, i % 7) j)
       || pg_temp.random_space() || ']' || pg_temp.random_space()
  FROM generate_series(1, 1200) i;
-- 600 random strings
INSERT INTO fuzz_lits (kind, lit)
SELECT 'random', (SELECT coalesce(string_agg(pg_temp.random_char(), ''), '')
                    FROM generate_series(1, i % 13) j)
  FROM generate_series(1, 600) i;

CREATE TEMP TABLE fuzz_results (id int, state text, ok_bits bytea, expected_state text,
                                expected_bits bytea, round_trip bool);
DO $$
DECLARE
  r record;
  v halfvec;
  st text;
  num text := '[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?';
  inner_text text;
  elems text[];
  expect real[];
  exp_state text;
  exp_bits bytea;
BEGIN
  FOR r IN SELECT * FROM fuzz_lits ORDER BY id LOOP
    -- what the oracle expects
    exp_bits := NULL;
    IF r.lit ~ ('^\s*\[\s*(' || num || '(\s*,\s*' || num || ')*)?\s*\]\s*$') THEN
      inner_text := btrim(substring(r.lit FROM '^\s*\[(.*)\]\s*$'), E' \t\n\r\v\f');
      IF inner_text = '' THEN
        exp_state := '22000';
      ELSE
        elems := regexp_split_to_array(inner_text, ',');
        SELECT array_agg(pg_temp.expect_half(btrim(e, E' \t\n\r\v\f')) ORDER BY o)
          INTO expect FROM unnest(elems) WITH ORDINALITY u(e, o);
        IF array_position(expect, NULL) IS NOT NULL THEN
          exp_state := '22003';
        ELSE
          exp_state := 'ok';
          exp_bits := halfvec_send(expect::halfvec);
        END IF;
      END IF;
    ELSIF EXISTS (SELECT FROM regexp_matches(r.lit, '(' || num || ')', 'g') m
                   WHERE pg_temp.expect_half(m[1]) IS NULL) THEN
      exp_state := '22P02 or 22000 or 22003';
    ELSE
      exp_state := '22P02 or 22000';
    END IF;
    -- what halfvec_in does
    BEGIN
      v := r.lit::halfvec;
      INSERT INTO fuzz_results VALUES (r.id, 'ok', halfvec_send(v), exp_state, exp_bits,
                                       halfvec_send(v::text::halfvec) = halfvec_send(v));
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
      INSERT INTO fuzz_results VALUES (r.id, st, NULL, exp_state, exp_bits, NULL);
    END;
  END LOOP;
END $$;

-- outcome counts (deterministic for the seed) and the number of disagreements with the oracle
SELECT kind, count(*) AS literals,
       count(*) FILTER (WHERE state = 'ok') AS accepted,
       count(*) FILTER (WHERE state = '22P02') AS "22P02",
       count(*) FILTER (WHERE state = '22003') AS "22003",
       count(*) FILTER (WHERE state = '22000') AS "22000",
       count(*) FILTER (WHERE state = '54000') AS "54000",
       count(*) FILTER (WHERE state NOT IN ('ok', '22P02', '22003', '22000', '54000')) AS other_errors
  FROM fuzz_lits JOIN fuzz_results USING (id) GROUP BY kind ORDER BY kind;
SELECT count(*) AS literals,
       count(*) FILTER (WHERE CASE
           WHEN expected_state = 'ok' THEN state = 'ok' AND ok_bits = expected_bits AND round_trip
           WHEN expected_state = '22P02 or 22000' THEN state IN ('22P02', '22000')
           WHEN expected_state = '22P02 or 22000 or 22003' THEN state IN ('22P02', '22000', '22003')
           ELSE state = expected_state END) AS agree_with_oracle
  FROM fuzz_results;
-- the disagreements, if any
SELECT id, kind, lit, state, expected_state, ok_bits, expected_bits, round_trip
  FROM fuzz_lits JOIN fuzz_results USING (id)
 WHERE NOT CASE
           WHEN expected_state = 'ok' THEN state = 'ok' AND ok_bits = expected_bits AND round_trip
           WHEN expected_state = '22P02 or 22000' THEN state IN ('22P02', '22000')
           WHEN expected_state = '22P02 or 22000 or 22003' THEN state IN ('22P02', '22000', '22003')
           ELSE state = expected_state END
 ORDER BY id LIMIT 20;
-- a sample of the literals (control characters shown escaped) and what became of them
SELECT kind, replace(replace(replace(lit, E'\r', '\r'), E'\n', '\n'), E'\t', '\t') AS lit, state,
       CASE WHEN state = 'ok' THEN (SELECT lit::halfvec::text) END AS value
  FROM fuzz_lits JOIN fuzz_results USING (id) WHERE id % 250 = 7 ORDER BY id;

SELECT '[1,2,3]'::halfvec <-> '[1,2,4]' AS still_working;
