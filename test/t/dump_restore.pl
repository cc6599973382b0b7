# pg_dump / pg_restore round trip with piramid installed in its own schema: the restored
# database (pg_restore runs with search_path = '') holds the same rows, rebuilds the hnsw
# indexes (l2 and cosine, with their options) and answers k-NN queries as the original does;
# and every object is usable with search_path = pg_catalog when qualified by its schema.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PostgreSQL::Test::Utils;
use Test::More;
use PiramidTest;

my $node = create_node('dump');
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
  CREATE SCHEMA vec;
  CREATE EXTENSION piramid SCHEMA vec;
  CREATE TABLE public.items (id int PRIMARY KEY, v vec.vector(3), w vec.vector);
  INSERT INTO public.items
    SELECT i, ('[' || (i % 17) || ',' || (i % 5 - 2) || ',' || (i % 11) * 0.5 || ']')::vec.vector,
           CASE WHEN i % 3 = 0 THEN NULL ELSE ('[' || i || ']')::vec.vector END
      FROM generate_series(1, 600) i;
  CREATE INDEX items_l2 ON public.items USING hnsw (v vec.vector_l2_ops) WITH (m = 8, ef_construction = 40);
  CREATE INDEX items_cos ON public.items USING hnsw (v vec.vector_cosine_ops);
});

# Everything usable with search_path = pg_catalog, qualified by schema.
my $qualified = q{
  SET search_path = pg_catalog;
  SET enable_seqscan = off;
  SELECT string_agg(id::text, ',') FROM (SELECT id FROM public.items
    ORDER BY v OPERATOR(vec.<->) '[3,1,2]'::vec.vector, id LIMIT 8) s;
  SELECT string_agg(id::text, ',') FROM (SELECT id FROM public.items
    ORDER BY v OPERATOR(vec.<=>) '[3,1,2]'::vec.vector, id LIMIT 8) s;
  SELECT vec.l2_distance('[1,2,3]'::vec.vector, '[3,2,1]'::vec.vector),
         vec.cosine_distance('[1,2,3]'::vec.vector, '[3,2,1]'::vec.vector),
         vec.inner_product('[1,2,3]'::vec.vector, '[3,2,1]'::vec.vector),
         vec.vector_dims('[1,2,3]'::vec.vector), vec.l2_norm('[3,4]'::vec.vector),
         ('{1,2,3}'::real[])::vec.vector, ('[1,2,3]'::vec.vector)::real[],
         '[1,2]'::vec.vector OPERATOR(vec.+) '[3,4]'::vec.vector;
  SELECT vec.avg(v), vec.sum(v) FROM public.items WHERE id <= 10;
};
my $before = $node->safe_psql('src', $qualified);
like($before, qr/^[\d,]+\n[\d,]+\n/, 'k-NN and functions work with search_path = pg_catalog');
my $plan = $node->safe_psql('src', q{
  SET search_path = pg_catalog; SET enable_seqscan = off;
  EXPLAIN (COSTS OFF) SELECT id FROM public.items ORDER BY v OPERATOR(vec.<->) '[3,1,2]'::vec.vector LIMIT 8;
});
like($plan, qr/Index Scan using items_l2/, 'the qualified query uses the hnsw index');

my $tmp = PostgreSQL::Test::Utils::tempdir;
$node->command_ok([ 'pg_dump', '-Fc', '-d', 'src', '-f', "$tmp/src.dump" ], 'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', 'dst', "$tmp/src.dump" ],
    'pg_restore (search_path = \'\' throughout)');
# plain SQL dump too, restored by psql
$node->command_ok([ 'pg_dump', '-d', 'src', '-f', "$tmp/src.sql" ], 'pg_dump plain');
$node->safe_psql('postgres', 'CREATE DATABASE dst2');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'dst2', '-f', "$tmp/src.sql" ],
    'plain dump restored by psql');

my $rows = q{SELECT count(*), count(w), md5(string_agg(id || ':' || v::text || ':' || coalesce(w::text, '-'), ';' ORDER BY id)) FROM public.items};
my $src_rows = $node->safe_psql('src', $rows);
for my $db ('dst', 'dst2') {
    is($node->safe_psql($db, $rows), $src_rows, "$db: the same rows");
    is($node->safe_psql($db, q{SELECT string_agg(indexrelid::regclass::text || ' ' || indisvalid, ',' ORDER BY indexrelid::regclass::text)
        FROM pg_index WHERE indrelid = 'public.items'::regclass}),
        'items_cos true,items_l2 true,items_pkey true', "$db: indexes restored and valid");
    like($node->safe_psql($db, q{SELECT pg_get_indexdef('public.items_l2'::regclass)}),
        qr/USING hnsw \(v vec\.vector_l2_ops\) WITH \(m='?8'?, ef_construction='?40'?\)/,
        "$db: index options kept");
    is($node->safe_psql($db, $qualified), $before, "$db: the same k-NN answers and values");
    is($node->safe_psql($db, q{SELECT count(*) FROM vec.piramid_hnsw_verify('public.items_l2')}),
        '0', "$db: the restored index verifies clean");
}

$node->stop;
done_testing();
