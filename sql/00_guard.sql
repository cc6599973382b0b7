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
-- inside a transaction with a savepoint, work goes on
BEGIN;
SAVEPOINT s;
SELECT piramid_selftest_raise('data');
ROLLBACK TO s;
SELECT piramid_selftest_raise('again');
COMMIT;
SELECT piramid_simd_isa() IN ('scalar', 'avx2', 'avx512', 'neon') AS isa_known;
