# A streaming standby replays every hnsw change (build, inserts, deletes, VACUUM) through
# GenericXLog with wal_consistency_checking = 'generic' on the primary, and answers k-NN
# queries exactly as the primary does.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PostgreSQL::Test::Utils;
use Test::More;
use PiramidTest;

my $primary = create_node('primary', allows_streaming => 1);
$primary->append_conf('postgresql.conf', "wal_consistency_checking = 'generic'\n");
$primary->start;
$primary->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->start;

$primary->safe_psql('postgres', q{
  CREATE EXTENSION piramid;
  CREATE TABLE t (id int PRIMARY KEY, v vector(8));
  INSERT INTO t SELECT i, (SELECT ('[' || string_agg(((i * 7 + j * 13) % 31)::text, ',') || ']') FROM generate_series(1, 8) j)::vector
    FROM generate_series(1, 3000) i;
  CREATE INDEX t_idx ON t USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
});

my @queries = map { [ map { ($_ * 5 + $_ * $_) % 31 } ($_ .. $_ + 7) ] } (1 .. 20);

# After replay the standby's index answers exactly as the primary's (same pages), with full
# answers, verifies clean, and a full iterative scan there returns every row of its heap.
sub compare {
    my ($label) = @_;
    $primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
    my $settings = 'SET enable_seqscan = off; SET hnsw.ef_search = 100;';
    my $p = knn_ids($primary, 't', '<->', \@queries, 10, $settings);
    my $s = knn_ids($standby, 't', '<->', \@queries, 10, $settings);
    is(scalar(grep { scalar(@$_) == 10 } @$p), scalar(@queries),
        "every primary query returns 10 rows after $label");
    is_deeply($s, $p, "standby returns the primary's results after $label");
    verify_clean($standby, 't_idx', "index verifies on the standby after $label");
    my $heap = heap_ids($standby, 't');
    my $q = '[' . join(',', @{ $queries[0] }) . ']';
    same_ids(index_scan_ids($standby, 't', $q), $heap,
        "a full iterative scan on the standby returns every row after $label");
    same_ids(index_scan_ids($primary, 't', $q), $heap,
        "... and the primary's returns the same rows after $label");
}

compare('build');
$primary->safe_psql('postgres', q{
  INSERT INTO t SELECT i, (SELECT ('[' || string_agg(((i * 11 + j * 3) % 29)::text, ',') || ']') FROM generate_series(1, 8) j)::vector
    FROM generate_series(3001, 4000) i;
});
compare('inserts');
# Seeds (elements an insert could not link, extra entry points until VACUUM): the meta page's
# seed array replays too; the standby's scans and verifier start from them.
is($primary->safe_psql('postgres', "SELECT piramid_hnsw_selftest_strand('t_idx', 5, true)"),
    '5', 'five elements stranded as seeds on the primary');
compare('stranding five elements as seeds');
$primary->safe_psql('postgres', 'DELETE FROM t WHERE id % 3 = 0');
compare('deletes');
$primary->safe_psql('postgres', 'VACUUM t');
compare('VACUUM');
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
is($standby->safe_psql('postgres', 'SELECT count(*) FROM t'),
    $primary->safe_psql('postgres', 'SELECT count(*) FROM t'), 'same rows on both');
is($primary->safe_psql('postgres', "SELECT piramid_hnsw_selftest_strand('t_idx', 0, true)"),
    '0', 'VACUUM linked the seeds in and dropped them');
$primary->safe_psql('postgres', q{
  INSERT INTO t SELECT i, (SELECT ('[' || string_agg(((i * 5 + j) % 23)::text, ',') || ']') FROM generate_series(1, 8) j)::vector
    FROM generate_series(5001, 5600) i;
});
compare('inserts into reused slots');
# Unlogged hnsw index on the primary: the standby has only its init fork, and refuses to read
# the table; the primary's index works, and the logged index still replays.
$primary->safe_psql('postgres', q{
  CREATE UNLOGGED TABLE u (id int, v vector(2));
  CREATE INDEX ON u USING hnsw (v vector_l2_ops);
  INSERT INTO u VALUES (1, '[1,1]'), (2, '[5,5]');
});
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
is($primary->safe_psql('postgres', "SET enable_seqscan = off; SELECT id FROM u ORDER BY v <-> '[4,4]' LIMIT 1"),
    '2', 'the unlogged index answers on the primary');
my ($ret, $out, $err) = $standby->psql('postgres', "SET enable_seqscan = off; SELECT id FROM u ORDER BY v <-> '[4,4]' LIMIT 1");
like($err, qr/cannot access temporary or unlogged relations during recovery/,
    'the standby refuses the unlogged table');
$primary->safe_psql('postgres', 'UPDATE t SET v = v + v WHERE id % 7 = 0; VACUUM t;');
compare('updates and a second VACUUM, with an unlogged index beside');

my $log = slurp_file($standby->logfile);
unlike($log, qr/inconsistent page found/, 'no WAL consistency failure on the standby');
unlike($log, qr/PANIC|TRAP:|terminated by signal/, 'no crash on the standby');

$standby->stop;
$primary->stop;
done_testing();
