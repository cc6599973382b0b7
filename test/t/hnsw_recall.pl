# Recall on real data (shared/data): after build, after concurrent inserts from several
# sessions, and after deleting 75% of the rows and VACUUM; plus a pgbench mix of concurrent
# INSERT, DELETE, SELECT and VACUUM that must finish without errors.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PostgreSQL::Test::Utils;
use Test::More;
use PiramidTest;

my $data = shared_data();
plan skip_all => "shared data not found at $data" unless -f "$data/sift-ngt-5k/base.fvecs";

my $node = create_node('recall');
$node->append_conf('postgresql.conf', "max_parallel_maintenance_workers = 1\nautovacuum = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION piramid');

my $base = read_fvecs("$data/sift-ngt-5k/base.fvecs");
my $queries = read_fvecs("$data/sift-ngt-5k/query.fvecs", 300);
my $n = scalar @$base;

sub verify_ok {
    my ($index, $label) = @_;
    verify_clean($node, $index, $label);
}

sub exact_ids {
    my ($table, $op, $qs) = @_;
    return knn_ids($node, $table, $op, $qs, 10, 'SET enable_indexscan = off; SET enable_seqscan = on;');
}

sub index_ids {
    my ($table, $op, $qs) = @_;
    return knn_ids($node, $table, $op, $qs, 10, 'SET enable_seqscan = off; SET hnsw.ef_search = 100;');
}

# --- L2, sift: build on half, insert the other half from 4 concurrent sessions.
$node->safe_psql('postgres', 'CREATE TABLE src (id int PRIMARY KEY, v vector(128)); CREATE TABLE t (id int PRIMARY KEY, v vector(128));');
$node->safe_psql('postgres', copy_sql('src', $base, 0));
$node->safe_psql('postgres', 'INSERT INTO t SELECT * FROM src');
$node->safe_psql('postgres', 'CREATE INDEX t_idx ON t USING hnsw (v vector_l2_ops)');
my $truth = exact_ids('t', '<->', $queries);
my $r = recall_at(index_ids('t', '<->', $queries), $truth, 10);
cmp_ok($r, '>=', 0.99, "L2 recall\@10 after build: $r");

$node->safe_psql('postgres', q{
  TRUNCATE t;
  INSERT INTO t SELECT * FROM src WHERE id < 2000;
  DROP INDEX t_idx;
  CREATE INDEX t_idx ON t USING hnsw (v vector_l2_ops);
  CREATE SEQUENCE next_id START 2000;
});
$node->pgbench('--no-vacuum --client=4 --transactions=500', 0, [qr{processed: 2000/2000}], [qr{^$}],
    'concurrent inserts',
    { 'insert.sql' => "INSERT INTO t SELECT id, v FROM src WHERE id = (SELECT nextval('next_id'));\n" });
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), $n, 'all rows inserted');
$r = recall_at(index_ids('t', '<->', $queries), $truth, 10);
cmp_ok($r, '>=', 0.99, "L2 recall\@10 after concurrent inserts: $r");
# Every committed row is reachable right after concurrent one-at-a-time inserts (no VACUUM
# needed), and a full iterative scan returns every row.
verify_ok('t_idx', 'index verifies (every row reachable) after concurrent inserts, before VACUUM');
same_ids(index_scan_ids($node, 't', vec_literal($queries->[0])), heap_ids($node, 't'),
    'a full iterative scan returns every row after concurrent inserts');
$node->safe_psql('postgres', 'VACUUM t');
verify_ok('t_idx', 'index verifies after concurrent inserts and VACUUM');

$node->safe_psql('postgres', 'DELETE FROM t WHERE id % 4 <> 0; VACUUM t;');
my $truth75 = exact_ids('t', '<->', $queries);
$r = recall_at(index_ids('t', '<->', $queries), $truth75, 10);
cmp_ok($r, '>=', 0.99, "L2 recall\@10 after deleting 75% and VACUUM: $r");
verify_ok('t_idx', 'index verifies after VACUUM');

# --- inner product on SIFT, and cosine on GloVe.
SKIP: {
    skip 'glove data missing', 4 unless -f "$data/glove-twitter-25-12k/base.fvecs";
    my $gb = read_fvecs("$data/glove-twitter-25-12k/base.fvecs");
    my $gq = read_fvecs("$data/glove-twitter-25-12k/query.fvecs", 300);
    $node->safe_psql('postgres', 'CREATE TABLE g (id int PRIMARY KEY, v vector(25))');
    $node->safe_psql('postgres', copy_sql('g', $gb, 0));
    # Inner product on SIFT descriptors (norms vary by about 2x: a real inner-product ranking).
    $node->safe_psql('postgres', 'CREATE INDEX src_ip ON src USING hnsw (v vector_ip_ops)');
    my $gt = exact_ids('src', '<#>', $queries);
    $r = recall_at(index_ids('src', '<#>', $queries), $gt, 10);
    cmp_ok($r, '>=', 0.97, "inner product recall\@10 after build: $r");
    $node->safe_psql('postgres', 'DROP INDEX src_ip');
    $node->safe_psql('postgres', 'CREATE INDEX g_cos ON g USING hnsw (v vector_cosine_ops)');
    $gt = exact_ids('g', '<=>', $gq);
    $r = recall_at(index_ids('g', '<=>', $gq), $gt, 10);
    cmp_ok($r, '>=', 0.99, "cosine recall\@10 after build: $r");
    $node->safe_psql('postgres', 'DELETE FROM g WHERE id % 4 <> 0; VACUUM g;');
    $gt = exact_ids('g', '<=>', $gq);
    $r = recall_at(index_ids('g', '<=>', $gq), $gt, 10);
    cmp_ok($r, '>=', 0.99, "cosine recall\@10 after deleting 75% and VACUUM: $r");
    verify_ok('g_cos', 'cosine index verifies after VACUUM');
}

# --- a concurrent mix: INSERT, DELETE, SELECT and VACUUM at once.
$node->safe_psql('postgres', q{
  CREATE TABLE mix (id serial PRIMARY KEY, v vector(128));
  INSERT INTO mix (v) SELECT v FROM src WHERE id < 1000;
  CREATE INDEX mix_idx ON mix USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
});
$node->pgbench('--no-vacuum --client=4 --time=8', 0, [qr{processed: \d+}], [qr{^$}],
    'concurrent insert/delete/select/vacuum',
    {
        'ins.sql@4' => "\\set r random(0, 3999)\nINSERT INTO mix (v) SELECT v FROM src WHERE id = :r;\n",
        'del.sql@2' => "\\set r random(1, 3000)\nDELETE FROM mix WHERE id = :r;\n",
        'sel.sql@4' => "\\set r random(0, 3999)\nSET enable_seqscan = off;\nSELECT id FROM mix ORDER BY v <-> (SELECT v FROM src WHERE id = :r) LIMIT 10;\n",
        'vac.sql@1' => "VACUUM mix;\n",
    });
$node->safe_psql('postgres', 'VACUUM mix');
# No problem at all, and no unreachable live row, after the churn.
verify_ok('mix_idx', 'index verifies (every live row reachable) after the concurrent mix and VACUUM');
same_ids(index_scan_ids($node, 'mix', vec_literal($queries->[1])), heap_ids($node, 'mix'),
    'a full iterative scan returns every live row after the concurrent mix and VACUUM');

$node->stop;
done_testing();
