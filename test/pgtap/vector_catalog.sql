-- The catalog contract of the vector type: names, signatures, return types, markings and cast
-- contexts that dumps, ORMs and drivers written for pgvector rely on.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS piramid;

CREATE TEMP TABLE vec_fns (name name, args name[], ret text) ON COMMIT DROP;
INSERT INTO vec_fns VALUES
  ('vector_in', '{cstring,oid,integer}', 'vector'),
  ('vector_out', '{vector}', 'cstring'),
  ('vector_typmod_in', '{cstring[]}', 'integer'),
  ('vector_typmod_out', '{integer}', 'cstring'),
  ('vector_recv', '{internal,oid,integer}', 'vector'),
  ('vector_send', '{vector}', 'bytea'),
  ('l2_distance', '{vector,vector}', 'double precision'),
  ('inner_product', '{vector,vector}', 'double precision'),
  ('cosine_distance', '{vector,vector}', 'double precision'),
  ('l1_distance', '{vector,vector}', 'double precision'),
  ('vector_l2_squared_distance', '{vector,vector}', 'double precision'),
  ('vector_negative_inner_product', '{vector,vector}', 'double precision'),
  ('vector_spherical_distance', '{vector,vector}', 'double precision'),
  ('vector_dims', '{vector}', 'integer'),
  ('vector_norm', '{vector}', 'double precision'),
  ('l2_norm', '{vector}', 'double precision'),
  ('l2_normalize', '{vector}', 'vector'),
  ('subvector', '{vector,integer,integer}', 'vector'),
  ('binary_quantize', '{vector}', 'bit'),
  ('vector_add', '{vector,vector}', 'vector'),
  ('vector_sub', '{vector,vector}', 'vector'),
  ('vector_mul', '{vector,vector}', 'vector'),
  ('vector_concat', '{vector,vector}', 'vector'),
  ('vector_lt', '{vector,vector}', 'boolean'),
  ('vector_le', '{vector,vector}', 'boolean'),
  ('vector_eq', '{vector,vector}', 'boolean'),
  ('vector_ne', '{vector,vector}', 'boolean'),
  ('vector_ge', '{vector,vector}', 'boolean'),
  ('vector_gt', '{vector,vector}', 'boolean'),
  ('vector_cmp', '{vector,vector}', 'integer'),
  ('vector_accum', '{"double precision[]",vector}', 'double precision[]'),
  ('vector_combine', '{"double precision[]","double precision[]"}', 'double precision[]'),
  ('vector_avg', '{"double precision[]"}', 'vector'),
  ('vector', '{vector,integer,boolean}', 'vector'),
  ('array_to_vector', '{integer[],integer,boolean}', 'vector'),
  ('array_to_vector', '{real[],integer,boolean}', 'vector'),
  ('array_to_vector', '{"double precision[]",integer,boolean}', 'vector'),
  ('array_to_vector', '{numeric[],integer,boolean}', 'vector'),
  ('vector_to_float4', '{vector,integer,boolean}', 'real[]'),
  ('vector_to_float8', '{vector,integer,boolean}', 'double precision[]'),
  ('vector_to_numeric', '{vector,integer,boolean}', 'numeric[]'),
  ('vector_to_int4', '{vector,integer,boolean}', 'integer[]');

CREATE TEMP TABLE vec_ops (op name, ret name, proc name, com name) ON COMMIT DROP;
INSERT INTO vec_ops VALUES
  ('<->', 'double precision', 'l2_distance', '<->'),
  ('<#>', 'double precision', 'vector_negative_inner_product', '<#>'),
  ('<=>', 'double precision', 'cosine_distance', '<=>'),
  ('<+>', 'double precision', 'l1_distance', '<+>'),
  ('+', 'vector', 'vector_add', '+'),
  ('-', 'vector', 'vector_sub', NULL),
  ('*', 'vector', 'vector_mul', '*'),
  ('||', 'vector', 'vector_concat', NULL),
  ('<', 'boolean', 'vector_lt', '>'),
  ('<=', 'boolean', 'vector_le', '>='),
  ('=', 'boolean', 'vector_eq', '='),
  ('<>', 'boolean', 'vector_ne', '<>'),
  ('>=', 'boolean', 'vector_ge', '<='),
  ('>', 'boolean', 'vector_gt', '<');

CREATE TEMP TABLE vec_casts (src name, dst name, fn name, ctx text) ON COMMIT DROP;
INSERT INTO vec_casts VALUES
  ('vector', 'vector', 'vector', 'implicit'),
  ('vector', 'real[]', 'vector_to_float4', 'implicit'),
  ('vector', 'double precision[]', 'vector_to_float8', 'explicit'),
  ('vector', 'numeric[]', 'vector_to_numeric', 'explicit'),
  ('vector', 'integer[]', 'vector_to_int4', 'explicit'),
  ('integer[]', 'vector', 'array_to_vector', 'assignment'),
  ('real[]', 'vector', 'array_to_vector', 'assignment'),
  ('double precision[]', 'vector', 'array_to_vector', 'assignment'),
  ('numeric[]', 'vector', 'array_to_vector', 'assignment');

SELECT plan(20 + 6 * (SELECT count(*)::int FROM vec_fns) + 3 * (SELECT count(*)::int FROM vec_ops)
            + 2 * (SELECT count(*)::int FROM vec_casts));

-- the type
SELECT has_type('vector');
SELECT is((SELECT typnamespace FROM pg_type WHERE typname = 'vector'),
          (SELECT extnamespace FROM pg_extension WHERE extname = 'piramid'),
          'vector lives in the extension''s schema');
SELECT ok((SELECT extrelocatable FROM pg_extension WHERE extname = 'piramid'),
          'the extension is relocatable');
SELECT results_eq(
  $$SELECT typlen::int, typstorage::text, typalign::text, typinput::text, typoutput::text,
           typreceive::text, typsend::text, typmodin::text, typmodout::text
      FROM pg_type WHERE typname = 'vector'$$,
  $$VALUES (-1, 'x', 'i', 'vector_in', 'vector_out', 'vector_recv', 'vector_send',
            'vector_typmod_in', 'vector_typmod_out')$$,
  'vector: varlena, storage extended, int alignment, pgvector''s I/O function names');
SELECT is(format_type('vector'::regtype, 3), 'vector(3)', 'format_type prints vector(3)');
SELECT is(format_type('vector'::regtype, -1), 'vector', 'format_type prints vector');
CREATE TEMP TABLE vec_tm (v vector(5)) ON COMMIT DROP;
SELECT is((SELECT atttypmod FROM pg_attribute WHERE attrelid = 'vec_tm'::regclass
             AND attname = 'v'), 5, 'atttypmod is the dimension count');
SELECT is((SELECT array_agg(oid::regtype::text ORDER BY oid) FROM pg_type
            WHERE typname = '_vector'), ARRAY['vector[]'], 'the array type vector[] exists');

-- functions: existence, return type, volatility, strictness, parallel safety, language
SELECT has_function(name, args) FROM vec_fns;
SELECT function_returns(name, args, ret) FROM vec_fns;
SELECT volatility_is(name, args, 'immutable') FROM vec_fns;
SELECT is_strict(name, args) FROM vec_fns;
SELECT is((SELECT proparallel::text FROM pg_proc
            WHERE proname = name AND oidvectortypes(proargtypes) = array_to_string(args, ', ')),
          's', name || '(' || array_to_string(args, ', ') || ') is PARALLEL SAFE')
  FROM vec_fns;
SELECT function_lang_is(name, args, 'c') FROM vec_fns;

-- operators: signature and result, implementing function, commutator
SELECT has_operator('vector', op, 'vector', ret) FROM vec_ops;
SELECT is((SELECT p.proname::text FROM pg_operator JOIN pg_proc p ON p.oid = oprcode
            WHERE oprname = op AND oprleft = 'vector'::regtype AND oprright = 'vector'::regtype),
          proc::text, 'operator ' || op || ' runs ' || proc)
  FROM vec_ops;
SELECT is((SELECT c.oprname::text FROM pg_operator o LEFT JOIN pg_operator c ON c.oid = o.oprcom
            WHERE o.oprname = op AND o.oprleft = 'vector'::regtype
              AND o.oprright = 'vector'::regtype),
          com::text, 'operator ' || op || ' commutator')
  FROM vec_ops;

-- negators of the comparison operators
SELECT results_eq(
  $$SELECT o.oprname::text COLLATE "default", n.oprname::text COLLATE "default"
      FROM pg_operator o JOIN pg_operator n ON n.oid = o.oprnegate
     WHERE o.oprleft = 'vector'::regtype AND o.oprright = 'vector'::regtype
     ORDER BY o.oprname$$,
  $$VALUES ('<', '>='), ('<=', '>'), ('<>', '='), ('=', '<>'), ('>', '<='), ('>=', '<')$$,
  'comparison operators have their negators');

-- casts: function and context
SELECT has_cast(src, dst, fn) FROM vec_casts;
SELECT cast_context_is(src, dst, ctx) FROM vec_casts;

-- btree opclass
SELECT has_opclass('vector_ops');
SELECT results_eq(
  $$SELECT opcdefault, opcintype::regtype::text FROM pg_opclass c JOIN pg_am a
      ON a.oid = c.opcmethod WHERE a.amname = 'btree' AND c.opcname = 'vector_ops'$$,
  $$VALUES (true, 'vector')$$, 'vector_ops is the default btree opclass for vector');
SELECT results_eq(
  $$SELECT p.amprocnum::int, p.amproc::text FROM pg_amproc p JOIN pg_opfamily f
      ON f.oid = p.amprocfamily JOIN pg_am a ON a.oid = f.opfmethod
     WHERE a.amname = 'btree' AND f.opfname = 'vector_ops'$$,
  $$VALUES (1, 'vector_cmp')$$, 'vector_ops support function 1 is vector_cmp');

-- aggregates
SELECT is_aggregate('avg', ARRAY['vector']::name[]);
SELECT is_aggregate('sum', ARRAY['vector']::name[]);
SELECT function_returns('avg', ARRAY['vector']::name[], 'vector');
SELECT function_returns('sum', ARRAY['vector']::name[], 'vector');
SELECT results_eq(
  $$SELECT p.proname::text COLLATE "default", a.aggtransfn::text, a.aggtranstype::regtype::text,
           a.aggfinalfn::text, a.aggcombinefn::text, coalesce(a.agginitval, '<null>') COLLATE "default",
           p.proparallel::text
      FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
     WHERE p.proargtypes = ARRAY['vector'::regtype]::oidvector ORDER BY p.proname$$,
  $$VALUES ('avg', 'vector_accum', 'double precision[]', 'vector_avg', 'vector_combine', '{0}', 's'),
           ('sum', 'vector_add', 'vector', '-', 'vector_add', '<null>', 's')$$,
  'avg and sum: transition, final and combine functions, parallel safe');

-- every function of the extension is marked: none left VOLATILE or PARALLEL UNSAFE by accident
-- (except the ones that are so on purpose, which do not belong to the vector type)
SELECT is_empty(
  $$SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_depend d
      ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
     JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'piramid'
     WHERE (p.proname LIKE 'vector%' OR p.proname IN ('l2_distance', 'inner_product',
            'cosine_distance', 'l1_distance', 'l2_norm', 'l2_normalize', 'subvector',
            'binary_quantize', 'array_to_vector', 'avg', 'sum'))
       AND (p.provolatile <> 'i' OR p.proparallel <> 's')$$,
  'all vector functions are IMMUTABLE and PARALLEL SAFE');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_depend d
            ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
           JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'piramid'
           WHERE (p.prorettype = 'vector'::regtype OR 'vector'::regtype = ANY (p.proargtypes))
             AND p.proname NOT LIKE '%halfvec%'     -- the halfvec casts: sql/halfvec_catalog.sql
             AND p.proname NOT LIKE '%sparsevec%'), -- the sparsevec casts: sql/sparsevec_ops.sql
          (SELECT count(*)::int + 2 FROM vec_fns
            WHERE ret = 'vector' OR 'vector' = ANY (args)),
          'no unlisted function takes or returns vector (the list above is complete)');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'vector'
                        AND typnamespace <> (SELECT extnamespace FROM pg_extension
                                              WHERE extname = 'piramid')),
          'exactly one type named vector');

SELECT * FROM finish();
ROLLBACK;
