# piramid_stat_indexes with piramid in shared_preload_libraries: the counters are the whole
# cluster's (scans from several sessions add up, per database), survive the sessions that made
# them, are reset by piramid_stat_reset() for everyone, and a full table (stat_max_indexes)
# leaves further indexes uncounted with one LOG line instead of failing their queries.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PostgreSQL::Test::Utils;
use PostgreSQL::Test::Cluster;
use Test::More;
use PiramidTest;

my $node = create_node('stats');
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'piramid'
piramid.stat_max_indexes = 16
autovacuum = off
});
$node->start;
$node->safe_psql('postgres', q{CREATE DATABASE other});
for my $db ('postgres', 'other') {
    $node->safe_psql($db, q{
        CREATE EXTENSION piramid;
        CREATE TABLE t (i int PRIMARY KEY, v vector(2));
        INSERT INTO t SELECT i, ARRAY[i % 17, i % 19] FROM generate_series(1, 2000) i;
        CREATE INDEX t_hnsw ON t USING hnsw (v vector_l2_ops);
    });
}
is($node->safe_psql('postgres', q{SHOW piramid.stat_max_indexes}), '16', 'the setting is defined');

sub knn {
    my ($db, $k) = @_;
    return $node->safe_psql($db, qq{
        SET enable_seqscan = off;
        SELECT count(*) FROM (SELECT i FROM t ORDER BY v <-> '[3,4]' LIMIT $k) s;
    });
}
sub counts {
    my ($db) = @_;
    return $node->safe_psql($db, q{
        SELECT scans || ' ' || tuples_returned || ' ' || inserts || ' ' || scope
        FROM piramid_stat_indexes WHERE indexrelname = 't_hnsw'});
}

# five sessions in postgres, two in other; each session ends before the view is read
knn('postgres', 10) for 1 .. 5;
knn('other', 3) for 1 .. 2;
is(counts('postgres'), '5 50 0 cluster', 'scans of five sessions add up');
is(counts('other'), '2 6 0 cluster', 'each database sees its own index');

# concurrent sessions: two background sessions scan while a third inserts
my @bg = map { $node->background_psql('postgres') } 1 .. 2;
for my $s (@bg) {
    $s->query_safe(q{SET enable_seqscan = off});
    $s->query_safe(q{SELECT count(*) FROM (SELECT i FROM t ORDER BY v <-> '[1,1]' LIMIT 4) s})
        for 1 .. 10;
}
$node->safe_psql('postgres', q{INSERT INTO t SELECT i, ARRAY[i, 1] FROM generate_series(2001, 2100) i});
$_->quit for @bg;
is(counts('postgres'), '25 130 100 cluster', 'background sessions and inserts are counted');

# reset: everyone's, every database's
$node->safe_psql('postgres', q{SELECT piramid_stat_reset()});
is(counts('postgres'), '', 'reset: no row in postgres');
is(counts('other'), '', 'reset: no row in other');
knn('other', 1);
is(counts('other'), '1 1 0 cluster', 'counting starts again after the reset');

# a full table: 16 entries; the 17th index still answers its queries, uncounted, one LOG line
$node->safe_psql('postgres', join('', map {
    "CREATE TABLE f$_ (v vector(2)); INSERT INTO f$_ VALUES ('[1,1]'), ('[2,2]');
     CREATE INDEX f${_}_idx ON f$_ USING hnsw (v vector_l2_ops);"
} 1 .. 17));
my $log_offset = -s $node->logfile;
my $found = 0;
for my $n (1 .. 17) {
    $found += $node->safe_psql('postgres', qq{
        SET enable_seqscan = off;
        SELECT count(*) FROM (SELECT v FROM f$n ORDER BY v <-> '[0,0]' LIMIT 2) s});
}
is($found, 34, 'every index answers while the table is full');
is($node->safe_psql('postgres', q{SELECT count(*) FROM piramid_stat_indexes}), '15',
    'sixteen entries: other.t_hnsw and fifteen of postgres\'s indexes');
like(slurp_file($node->logfile, $log_offset), qr/piramid_stat_indexes is full: index \d+ is not counted/,
    'the full table is reported in the log');

$node->stop;
done_testing();
