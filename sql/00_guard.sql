-- The C++/Postgres boundary: exceptions thrown in core code become ERRORs with SQLSTATEs,
-- and the backend keeps working afterwards.
\set VERBOSITY sqlstate
SELECT piramid_selftest_raise('fine');
SELECT piramid_selftest_raise('invalid');
SELECT piramid_selftest_raise('data');
SELECT piramid_selftest_raise('oom');
SELECT piramid_selftest_raise('internal');
SELECT piramid_selftest_raise('bad_alloc');
SELECT piramid_selftest_raise('unknown');
\set VERBOSITY default
SELECT piramid_selftest_raise('std');
-- call_pg: a C++ exception thrown inside its PG_TRY (directly, from a value-returning body, or
-- as a nested call_pg's Postgres error) reaches the caller with the handler stacks restored;
-- each kind then raises a Postgres error through call_pg, which must arrive as this ERROR.
SELECT piramid_selftest_raise('call_pg_cxx');
SELECT piramid_selftest_raise('call_pg_value');
SELECT piramid_selftest_raise('call_pg_nested');
SELECT piramid_selftest_raise('fine');
-- inside a transaction with a savepoint, work goes on
BEGIN;
SAVEPOINT s;
SELECT piramid_selftest_raise('data');
ROLLBACK TO s;
SELECT piramid_selftest_raise('again');
COMMIT;
SELECT piramid_simd_isa() IN ('scalar', 'avx2', 'avx512', 'neon') AS isa_known;
