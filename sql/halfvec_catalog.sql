-- halfvec's catalog surface: every function, operator, cast, operator class and aggregate that
-- involves halfvec, with the markings drivers, dumps and the planner see. It must match
-- pgvector 0.8's sql/vector.sql (minus the hnsw/ivfflat operator classes and their support
-- functions; halfvec_typmod_out is piramid's, as vector_typmod_out is).

-- the type
SELECT typname, typlen, typbyval, typalign, typstorage, typcategory, typispreferred,
       typinput, typoutput, typreceive, typsend, typmodin, typmodout, typanalyze
  FROM pg_type WHERE typname = 'halfvec';

-- functions: signature, result, volatility, strictness, parallel safety, language, C symbol
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns,
       p.provolatile AS vol, p.proisstrict AS strict, p.proparallel AS par, l.lanname AS lang,
       p.prokind AS kind, CASE WHEN l.lanname = 'c' THEN p.prosrc END AS symbol
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'piramid'
 WHERE p.prorettype = 'halfvec'::regtype OR 'halfvec'::regtype = ANY (p.proargtypes)
    OR p.proname LIKE 'halfvec%'
 ORDER BY p.proname, p.oid::regprocedure::text;

-- operators: operands, result, function, commutator, negator, selectivity estimators
SELECT o.oprname AS op, o.oprleft::regtype AS left, o.oprright::regtype AS right,
       o.oprresult::regtype AS result, p.proname AS function,
       (SELECT c.oprname FROM pg_operator c WHERE c.oid = o.oprcom) AS commutator,
       (SELECT n.oprname FROM pg_operator n WHERE n.oid = o.oprnegate) AS negator,
       o.oprrest AS restrict, o.oprjoin AS join, o.oprcanmerge AS merges, o.oprcanhash AS hashes
  FROM pg_operator o JOIN pg_proc p ON p.oid = o.oprcode
 WHERE o.oprleft = 'halfvec'::regtype OR o.oprright = 'halfvec'::regtype
 ORDER BY o.oprname, o.oprleft::regtype::text, o.oprright::regtype::text;

-- casts: source, target, function, context (i = implicit, a = assignment, e = explicit)
SELECT c.castsource::regtype AS source, c.casttarget::regtype AS target,
       c.castfunc::regprocedure AS function, c.castcontext AS context, c.castmethod AS method
  FROM pg_cast c
 WHERE c.castsource = 'halfvec'::regtype OR c.casttarget = 'halfvec'::regtype
 ORDER BY c.castsource::regtype::text, c.casttarget::regtype::text;

-- operator classes and their members
SELECT oc.opcname, am.amname, oc.opcdefault, oc.opcintype::regtype
  FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
 WHERE oc.opcintype = 'halfvec'::regtype ORDER BY 1, 2;
SELECT oc.opcname, ao.amopstrategy AS strategy, ao.amopopr::regoperator AS operator,
       ao.amoppurpose AS purpose
  FROM pg_opclass oc JOIN pg_amop ao ON ao.amopfamily = oc.opcfamily
 WHERE oc.opcintype = 'halfvec'::regtype ORDER BY 1, 2;
SELECT oc.opcname, ap.amprocnum AS support, ap.amproc::regprocedure AS function
  FROM pg_opclass oc JOIN pg_amproc ap ON ap.amprocfamily = oc.opcfamily
 WHERE oc.opcintype = 'halfvec'::regtype ORDER BY 1, 2;

-- aggregates
SELECT a.aggfnoid::regprocedure AS aggregate, a.aggtransfn AS sfunc, a.aggtranstype::regtype AS stype,
       a.aggfinalfn AS finalfunc, a.aggcombinefn AS combinefunc, a.agginitval AS initcond,
       p.proparallel AS par
  FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
 WHERE p.proargtypes = ARRAY['halfvec'::regtype]::oidvector ORDER BY p.proname;

-- how untyped arguments resolve now that functions are overloaded for vector and halfvec
-- (as with pgvector: an explicit cast picks the type)
\set VERBOSITY sqlstate
SELECT l2_distance('[1,2]', '[3,4]');
\set VERBOSITY default
SELECT l2_distance('[1,2]'::halfvec, '[3,4]'), l2_distance('[1,2]'::vector, '[3,4]'),
       l2_distance('[1,2]'::vector, '[3,4]'::halfvec) AS mixed;
SELECT pg_typeof('[1,2]'::vector + '[3,4]'), pg_typeof('[1,2]'::halfvec + '[3,4]'),
       pg_typeof('[1,2]'::vector + '[3,4]'::halfvec) AS mixed;
