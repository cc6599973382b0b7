# halfvec, bit and sparsevec hnsw indexes on real data (shared/data), as applications make them:
# a halfvec column, and halfvec, bit and sparsevec expression indexes over a vector or halfvec
# column (a cast, binary_quantize), every halfvec, bit and sparsevec opclass. Recall after build, after concurrent inserts, and after deleting
# most rows and VACUUM; every index verifies clean (every live row reachable) at each step; a
# streaming standby (wal_consistency_checking = 'generic' on the primary) answers as the primary.
#
# Recall counts an index result as right when its distance is at most the exact 10th distance,
# so that ties (everywhere under Hamming distance) count either way.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PostgreSQL::Test::Utils;
use PostgreSQL::Test::Cluster;
use Test::More;
use PiramidTest;

my $data = shared_data();
plan skip_all => "shared data not found at $data"
  unless -f "$data/sift-ngt-5k/base.fvecs" && -f "$data/beir-bge-base-768/base.fvecs";

my $primary = create_node('kinds', allows_streaming => 1);
$primary->append_conf('postgresql.conf',
    "wal_consistency_checking = 'generic'\nautovacuum = off\nmax_parallel_maintenance_workers = 1\n");
$primary->start;
$primary->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('kinds_standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION piramid');

my $sift = read_fvecs("$data/sift-ngt-5k/base.fvecs");
my $sift_q = read_fvecs("$data/sift-ngt-5k/query.fvecs", 100);
my $beir = read_fvecs("$data/beir-bge-base-768/base.fvecs", 6000);
my $beir_q = read_fvecs("$data/beir-bge-base-768/query.fvecs", 100);

# SIFT descriptors are small integers: exact in half precision. s and b hold the first 2000 and
# 4000 rows; src_s (4000 rows) and src_b (6000) everything, for the concurrent inserts (2000
# into the two tables, each with 2000 rows left to take).
$primary->safe_psql('postgres', q{
  CREATE TABLE src_s (id int PRIMARY KEY, v halfvec(128));
  CREATE TABLE src_b (id int PRIMARY KEY, v vector(768));
});
$primary->safe_psql('postgres', copy_sql('src_s', $sift, 0));
$primary->safe_psql('postgres', copy_sql('src_b', $beir, 0));
$primary->safe_psql('postgres', q{
  CREATE TABLE s AS SELECT * FROM src_s WHERE id < 2000;
  CREATE TABLE b AS SELECT * FROM src_b WHERE id < 4000;
});

# [table, indexed expression, opclass, operator, query SQL for a literal, queries, min recall]
# (measured 0.989-0.998 at every step; sparsevec 0.994-1.0)
my $half128 = sub { "'$_[0]'::halfvec(128)" };
my $half768 = sub { "'$_[0]'::halfvec(768)" };
my $bits768 = sub { "binary_quantize('$_[0]'::vector(768))::bit(768)" };
# sparsevec: SIFT descriptors have many zero components (the rows keep only their non-zeros);
# beir rows as sparse vectors of 768 non-zeros (an element a page) for cosine
my $sparse128 = sub { "'$_[0]'::halfvec(128)::sparsevec(128)" };
my $sparse768 = sub { "'$_[0]'::vector(768)::sparsevec(768)" };
# vector(2000) (pgvector's limit) from beir rows: too wide for its lists on the same page at
# m = 16, so every element keeps them in a list tuple (WAL-checked like the rest)
my $wide_expr = '((v || v || subvector(v, 1, 464))::vector(2000))';
my $wide2000 = sub { "('$_[0]'::vector(768) || '$_[0]'::vector(768) || subvector('$_[0]'::vector(768), 1, 464))::vector(2000)" };
my @cases = (
    [ 's', 'v', 'halfvec_l2_ops', '<->', $half128, $sift_q, 0.99 ],
    [ 's', 'v', 'halfvec_ip_ops', '<#>', $half128, $sift_q, 0.98 ],
    [ 's', 'v', 'halfvec_l1_ops', '<+>', $half128, $sift_q, 0.98 ],
    [ 'b', '(v::halfvec(768))', 'halfvec_cosine_ops', '<=>', $half768, $beir_q, 0.98 ],
    [ 'b', '(binary_quantize(v)::bit(768))', 'bit_hamming_ops', '<~>', $bits768, $beir_q, 0.97 ],
    [ 'b', '(binary_quantize(v)::bit(768))', 'bit_jaccard_ops', '<%>', $bits768, $beir_q, 0.97 ],
    [ 's', '(v::sparsevec(128))', 'sparsevec_l2_ops', '<->', $sparse128, $sift_q, 0.99 ],
    [ 's', '(v::sparsevec(128))', 'sparsevec_ip_ops', '<#>', $sparse128, $sift_q, 0.98 ],
    [ 's', '(v::sparsevec(128))', 'sparsevec_l1_ops', '<+>', $sparse128, $sift_q, 0.98 ],
    [ 'b', '(v::sparsevec(768))', 'sparsevec_cosine_ops', '<=>', $sparse768, $beir_q, 0.98 ],
    [ 'b', $wide_expr, 'vector_l2_ops', '<->', $wide2000, $beir_q, 0.98 ],
);

# Distances of the 10 nearest rows, one list per query, in one session.
sub knn_dists {
    my ($node, $c, $settings) = @_;
    my ($table, $expr, $opclass, $op, $qsql, $queries) = @$c;
    my $sql = "$settings\n";
    for my $q (@$queries) {
        my $lit = $qsql->(vec_literal($q));
        $sql .= "SELECT coalesce(string_agg(d::text, ',' ORDER BY n), '') FROM (SELECT d, row_number() OVER () n FROM "
          . "(SELECT $expr $op $lit AS d FROM $table ORDER BY $expr $op $lit LIMIT 10) s) s2;\n";
    }
    return [ map { [ split /,/, $_ ] } split /\n/, $node->safe_psql('postgres', $sql) ];
}

my $index_settings = 'SET enable_seqscan = off; SET hnsw.ef_search = 100;';
my $exact_settings = 'SET enable_indexscan = off; SET enable_bitmapscan = off;';

sub recall_by_distance {
    my ($got, $truth) = @_;
    my ($hit, $total) = (0, 0);
    for my $i (0 .. $#$truth) {
        my $kth = $truth->[$i][9];
        $hit += scalar grep { $_ <= $kth + 1e-6 * abs($kth) } @{ $got->[$i] // [] };
        $total += 10;
    }
    return $total ? $hit / $total : 0;
}

sub check_all {
    my ($label) = @_;
    my $i = 0;
    for my $c (@cases) {
        my ($table, $expr, $opclass, $op, $qsql, $queries, $min) = @$c;
        my $index = 'kind_idx_' . $i++;
        my $plan = $primary->safe_psql('postgres', "$index_settings EXPLAIN (COSTS OFF) SELECT id FROM $table ORDER BY $expr $op "
              . $qsql->(vec_literal($queries->[0])) . " LIMIT 10");
        like($plan, qr/Index Scan using $index /, "$opclass: the index answers ORDER BY $op ($label)");
        my $exact = knn_dists($primary, $c, $exact_settings);
        my $got = knn_dists($primary, $c, $index_settings);
        is(scalar(grep { scalar(@$_) == 10 } @$got), scalar(@$queries), "$opclass: every query returns 10 rows ($label)");
        my $r = recall_by_distance($got, $exact);
        cmp_ok($r, '>=', $min, "$opclass: recall\@10 $r ($label)");
        verify_clean($primary, $index, "$opclass: index verifies ($label)");
    }
}

my $i = 0;
for my $c (@cases) {
    my ($table, $expr, $opclass) = @$c;
    $primary->safe_psql('postgres', "CREATE INDEX kind_idx_" . $i++ . " ON $table USING hnsw ($expr $opclass)");
}
check_all('after build');

$primary->safe_psql('postgres', 'CREATE SEQUENCE next_s START 2000; CREATE SEQUENCE next_b START 4000;');
$primary->pgbench('--no-vacuum --client=4 --transactions=500', 0, [qr{processed: 2000/2000}], [qr{^$}],
    'concurrent inserts into every index',
    {
        'ins_s.sql' => "INSERT INTO s SELECT * FROM src_s WHERE id = (SELECT nextval('next_s'));\n",
        'ins_b.sql' => "INSERT INTO b SELECT * FROM src_b WHERE id = (SELECT nextval('next_b'));\n",
    });
is($primary->safe_psql('postgres', 'SELECT (SELECT count(*) FROM s) + (SELECT count(*) FROM b)'),
    2000 + 4000 + 2000, 'all rows inserted');
check_all('after concurrent inserts');

$primary->safe_psql('postgres', 'DELETE FROM s WHERE id % 4 <> 0; DELETE FROM b WHERE id % 4 <> 0; VACUUM s; VACUUM b;');
check_all('after deleting 75% and VACUUM');

# The standby replayed builds, inserts, deletes and VACUUM: same answers from its indexes.
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
for my $c (@cases) {
    my $p = knn_dists($primary, $c, $index_settings);
    my $s = knn_dists($standby, $c, $index_settings);
    is_deeply($s, $p, "$c->[2]: the standby answers as the primary");
}

$standby->stop;
$primary->stop;
done_testing();
