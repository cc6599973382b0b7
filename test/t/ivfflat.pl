# ivfflat: recall on SIFT (sift-ngt-5k) against exact answers; a streaming standby replays the
# build, inserts, deletes and VACUUM (wal_consistency_checking = 'generic' on the primary) and
# answers as the primary does; VACUUM after deletes leaves exactly the live rows in the index.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use PiramidTest;

my $data = shared_data();

my $primary = create_node('primary', allows_streaming => 1);
$primary->append_conf('postgresql.conf',
    "wal_consistency_checking = 'generic'\nautovacuum = off\nmax_parallel_maintenance_workers = 1\n");
$primary->start;
$primary->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION piramid');

# Every row a scan of all lists returns, sorted.
sub all_ids {
    my ($node, $table, $q, $lists) = @_;
    my $out = $node->safe_psql('postgres', "SET enable_seqscan = off; SET ivfflat.probes = $lists;
        SELECT coalesce(string_agg(id::text, ','), '') FROM (SELECT id FROM $table ORDER BY v <-> '$q') s");
    return [ sort { $a <=> $b } grep { $_ ne '' } split /,/, $out ];
}

SKIP: {
    skip "shared data not found at $data", 14 unless -f "$data/sift-ngt-5k/base.fvecs";
    my $base = read_fvecs("$data/sift-ngt-5k/base.fvecs");
    my $queries = read_fvecs("$data/sift-ngt-5k/query.fvecs", 200);
    my $n = scalar @$base;
    my $lists = int(sqrt($n) + 0.5);
    my $probes = int(sqrt($lists) + 0.5);
    $primary->safe_psql('postgres', 'CREATE TABLE s (id int PRIMARY KEY, v vector(128))');
    $primary->safe_psql('postgres', copy_sql('s', $base, 0));
    $primary->safe_psql('postgres', "CREATE INDEX s_idx ON s USING ivfflat (v vector_l2_ops) WITH (lists = $lists)");
    my $truth = knn_ids($primary, 's', '<->', $queries, 10, 'SET enable_indexscan = off;');
    my $got = knn_ids($primary, 's', '<->', $queries, 10, "SET enable_seqscan = off; SET ivfflat.probes = $probes;");
    my $r = recall_at($got, $truth, 10);
    diag("sift-ngt-5k: $n rows, lists = $lists, probes = $probes: recall\@10 = $r");
    cmp_ok($r, '>=', 0.85, "L2 recall\@10 at probes = $probes of $lists lists: $r");
    my $r1 = recall_at(knn_ids($primary, 's', '<->', $queries, 10, 'SET enable_seqscan = off; SET ivfflat.probes = 1;'), $truth, 10);
    diag("probes = 1: recall\@10 = $r1");
    cmp_ok($r1, '<', $r, "fewer probes, lower recall ($r1)");
    my $rall = recall_at(knn_ids($primary, 's', '<->', $queries, 10, "SET enable_seqscan = off; SET ivfflat.probes = $lists;"), $truth, 10);
    is($rall, 1, 'probes = lists gives the exact answers');

    # inner product and cosine on the same data
    $primary->safe_psql('postgres', "DROP INDEX s_idx; CREATE INDEX s_cos ON s USING ivfflat (v vector_cosine_ops) WITH (lists = $lists)");
    my $tc = knn_ids($primary, 's', '<=>', $queries, 10, 'SET enable_indexscan = off;');
    $r = recall_at(knn_ids($primary, 's', '<=>', $queries, 10, "SET enable_seqscan = off; SET ivfflat.probes = $probes;"), $tc, 10);
    diag("cosine: recall\@10 = $r");
    cmp_ok($r, '>=', 0.85, "cosine recall\@10 at probes = $probes: $r");
    $primary->safe_psql('postgres', "DROP INDEX s_cos; CREATE INDEX s_ip ON s USING ivfflat (v vector_ip_ops) WITH (lists = $lists)");
    my $ti = knn_ids($primary, 's', '<#>', $queries, 10, 'SET enable_indexscan = off;');
    $r = recall_at(knn_ids($primary, 's', '<#>', $queries, 10, "SET enable_seqscan = off; SET ivfflat.probes = $probes;"), $ti, 10);
    diag("inner product: recall\@10 = $r");
    cmp_ok($r, '>=', 0.7, "inner product recall\@10 at probes = $probes: $r");
    $r = recall_at(knn_ids($primary, 's', '<#>', $queries, 10, "SET enable_seqscan = off; SET ivfflat.probes = $lists;"), $ti, 10);
    is($r, 1, 'inner product: probes = lists gives the exact answers');

    # The planner picks the index for ORDER BY ... LIMIT with default settings.
    $primary->safe_psql('postgres', "DROP INDEX s_ip; CREATE INDEX s_ip ON s USING ivfflat (v vector_l2_ops) WITH (lists = $lists); ANALYZE s;");
    like($primary->safe_psql('postgres', "EXPLAIN (COSTS OFF) SELECT id FROM s ORDER BY v <-> '" . vec_literal($queries->[0]) . "' LIMIT 10"),
        qr/Index Scan using s_ip/, 'the planner chooses the ivfflat index for a k-NN query');
    $primary->safe_psql('postgres', 'DROP INDEX s_ip; CREATE INDEX s_ip ON s USING ivfflat (v vector_ip_ops) WITH (lists = 10)');

    # A long k-means is cancelled by statement_timeout (the worker threads stop, the backend
    # raises the cancel), and the session goes on.
    my $t0 = time();
    my ($rc, $out, $err) = $primary->psql('postgres',
        "SET statement_timeout = '300ms'; CREATE INDEX s_slow ON s USING ivfflat (v vector_l2_ops) WITH (lists = 3000)");
    diag('cancelled build returned after ' . (time() - $t0) . ' s');
    like($err, qr/canceling statement due to statement timeout/, 'statement_timeout cancels a long ivfflat build');
    is($primary->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 's_slow'"), '0',
        'the cancelled index does not exist');

    # Concurrent inserts from 4 sessions: every row lands in the index.
    $primary->safe_psql('postgres', "CREATE TABLE c (id int, v vector(128)); INSERT INTO c SELECT * FROM s WHERE id < 500;
        CREATE INDEX c_idx ON c USING ivfflat (v vector_l2_ops) WITH (lists = 8); CREATE SEQUENCE c_next START 1000;");
    $primary->pgbench('--no-vacuum --client=4 --transactions=300', 0, [qr{processed: 1200/1200}], [qr{^$}],
        'concurrent ivfflat inserts',
        { 'insert.sql' => "INSERT INTO c SELECT nextval('c_next'), v FROM s WHERE id = 500 + (nextval('c_next') % 3000);\n" });
    same_ids(all_ids($primary, 'c', vec_literal($queries->[1]), 8), heap_ids($primary, 'c'),
        'after concurrent inserts the index returns exactly the heap rows');

    # VACUUM after deleting 75%: the index holds exactly the live rows, recall still holds.
    $primary->safe_psql('postgres', "DROP INDEX s_ip; CREATE INDEX s_idx ON s USING ivfflat (v vector_l2_ops) WITH (lists = $lists);
        DELETE FROM s WHERE id % 4 <> 0; VACUUM s;");
    same_ids(all_ids($primary, 's', vec_literal($queries->[0]), $lists), heap_ids($primary, 's'),
        'after DELETE and VACUUM the index returns exactly the live rows');
}

# WAL: build, inserts (new pages), deletes and VACUUM replay on the standby.
$primary->safe_psql('postgres', q{
  CREATE TABLE t (id int PRIMARY KEY, v vector(8));
  INSERT INTO t SELECT i, (SELECT ('[' || string_agg(((i * 7 + j * 13) % 31)::text, ',') || ']') FROM generate_series(1, 8) j)::vector
    FROM generate_series(1, 3000) i;
  CREATE INDEX t_idx ON t USING ivfflat (v vector_l2_ops) WITH (lists = 20);
  CREATE INDEX t_half ON t USING ivfflat ((v::halfvec(8)) halfvec_cosine_ops) WITH (lists = 10);
  CREATE INDEX t_bit ON t USING ivfflat ((binary_quantize(v - '[15,15,15,15,15,15,15,15]')::bit(8)) bit_hamming_ops) WITH (lists = 4);
});
my @queries = map { [ map { ($_ * 5 + $_ * $_) % 31 } ($_ .. $_ + 7) ] } (1 .. 20);

sub compare {
    my ($label) = @_;
    $primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
    for my $probes (3, 20) {
        my $settings = "SET enable_seqscan = off; SET ivfflat.probes = $probes;";
        my $p = knn_ids($primary, 't', '<->', \@queries, 10, $settings);
        my $s = knn_ids($standby, 't', '<->', \@queries, 10, $settings);
        is_deeply($s, $p, "standby answers as the primary after $label (probes = $probes)");
        $p = knn_ids($primary, 't', '::halfvec(8) <=>', \@queries, 10, $settings);
        $s = knn_ids($standby, 't', '::halfvec(8) <=>', \@queries, 10, $settings);
        is_deeply($s, $p, "halfvec cosine: standby answers as the primary after $label (probes = $probes)");
    }
    same_ids(all_ids($standby, 't', '[1,2,3,4,5,6,7,8]', 20), heap_ids($standby, 't'),
        "the standby's index holds exactly the heap's rows after $label");
    my $bits = $standby->safe_psql('postgres', "SET enable_seqscan = off; SET ivfflat.probes = 4;
        EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY binary_quantize(v - '[15,15,15,15,15,15,15,15]')::bit(8) <~> B'10101010';
        SELECT count(*) FROM (SELECT id FROM t ORDER BY binary_quantize(v - '[15,15,15,15,15,15,15,15]')::bit(8) <~> B'10101010') s");
    like($bits, qr/Index Scan using t_bit/, "bit index used on the standby after $label");
    my ($count) = $bits =~ /(\d+)\s*\z/;
    is($count, $standby->safe_psql('postgres', 'SELECT count(*) FROM t'),
        "the standby's bit index holds every row after $label");
}

compare('build');
$primary->safe_psql('postgres', q{
  INSERT INTO t SELECT i, (SELECT ('[' || string_agg(((i * 11 + j * 3) % 29)::text, ',') || ']') FROM generate_series(1, 8) j)::vector
    FROM generate_series(3001, 5000) i;
});
compare('inserts');
$primary->safe_psql('postgres', 'DELETE FROM t WHERE id % 3 = 0');
compare('deletes');
$primary->safe_psql('postgres', 'VACUUM t');
compare('VACUUM');
$primary->safe_psql('postgres', q{
  INSERT INTO t SELECT i, (SELECT ('[' || string_agg(((i * 5 + j) % 23)::text, ',') || ']') FROM generate_series(1, 8) j)::vector
    FROM generate_series(6001, 6600) i;
  UPDATE t SET v = v + v WHERE id % 7 = 0;
  VACUUM t;
});
compare('inserts, updates and a second VACUUM');

# An unlogged table's index: its init fork is written and logged; the primary's index works.
$primary->safe_psql('postgres', q{
  CREATE UNLOGGED TABLE u (id int, v vector(2));
  CREATE INDEX ON u USING ivfflat (v vector_l2_ops) WITH (lists = 2);
  INSERT INTO u VALUES (1, '[1,1]'), (2, '[5,5]');
});
is($primary->safe_psql('postgres', "SET enable_seqscan = off; SET ivfflat.probes = 2; SELECT id FROM u ORDER BY v <-> '[4,4]' LIMIT 1"),
    '2', 'the unlogged index answers on the primary');
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));

my $log = slurp_file($standby->logfile);
unlike($log, qr/inconsistent page found/, 'no WAL consistency failure on the standby');
unlike($log, qr/PANIC|TRAP:|terminated by signal/, 'no crash on the standby');
# The unlogged index after a crash restart: reset from its init fork, then takes rows again.
$primary->stop('immediate');
$primary->start;
$primary->safe_psql('postgres', "INSERT INTO u VALUES (3, '[9,9]')");
is($primary->safe_psql('postgres', "SET enable_seqscan = off; SET ivfflat.probes = 2; SELECT string_agg(id::text, ',') FROM (SELECT id FROM u ORDER BY v <-> '[8,8]') s"),
    '3', 'after a crash the unlogged index restarts empty from its init fork and takes inserts');

$standby->stop;
$primary->stop;
done_testing();
