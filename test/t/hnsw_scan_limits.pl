# The bounds of an iterative hnsw scan, as a filtered query meets them: hnsw.max_scan_tuples
# stops a scan that would otherwise walk the whole graph, the memory bound (work_mem x
# hnsw.scan_mem_multiplier) ends it with pgvector's DEBUG line and hint, and with both bounds
# wide enough every matching row is found.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PostgreSQL::Test::Utils;
use PostgreSQL::Test::Cluster;
use Test::More;
use PiramidTest;

my $node = create_node('limits');
$node->append_conf('postgresql.conf', "autovacuum = off\n");
$node->start;
$node->safe_psql('postgres', q{
    CREATE EXTENSION piramid;
    SELECT setseed(0.25);
    CREATE TABLE t (i int PRIMARY KEY, v vector(3));
    INSERT INTO t SELECT i, ARRAY[random(), random(), random()] FROM generate_series(1, 30000) i;
    CREATE INDEX t_idx ON t USING hnsw (v vector_l2_ops);
});

# ten rows match the filter; LIMIT 11 makes the scan look for one more than there are
sub filtered {
    my ($settings, $q) = @_;
    return $node->psql('postgres', qq{
        SET enable_seqscan = off;
        SET hnsw.iterative_scan = relaxed_order;
        $settings
        SELECT count(*) FROM (SELECT i FROM t WHERE i % 3000 = 0
                              ORDER BY v <-> (SELECT v FROM t WHERE i = $q) LIMIT 11) s;
    });
}

my $plan = $node->safe_psql('postgres', q{
    SET enable_seqscan = off;
    EXPLAIN (COSTS OFF) SELECT i FROM t WHERE i % 3000 = 0 ORDER BY v <-> '[0,0,0]' LIMIT 11;
});
like($plan, qr/Index Scan using t_idx/, 'the filtered query uses the index');

# both bounds wide: every matching row, for every query
for my $q (1, 777, 12345) {
    my ($rc, $out, $err) = filtered(
        "SET hnsw.max_scan_tuples = 100000; SET hnsw.scan_mem_multiplier = 100; SET client_min_messages = debug1;", $q);
    is($rc, 0, "query $q: wide bounds: no error");
    is($out, '10', "query $q: wide bounds: all ten matching rows");
    unlike($err, qr/reached memory limit/, "query $q: wide bounds: no memory-limit message");
}

# a small tuple budget: the scan stops well before it has met every row
for my $q (1, 777, 12345) {
    my ($rc, $out) = filtered('SET hnsw.max_scan_tuples = 1000; SET hnsw.scan_mem_multiplier = 100;', $q);
    is($rc, 0, "query $q: max_scan_tuples = 1000: no error");
    cmp_ok($out, '<', 10, "query $q: max_scan_tuples = 1000: stops early ($out rows)");
}

# the memory bound: 64kB of work_mem holds far fewer than 30,000 visited elements
my ($rc, $out, $err) = filtered(
    "SET hnsw.max_scan_tuples = 100000; SET work_mem = '64kB'; SET client_min_messages = debug1;", 1);
is($rc, 0, 'memory bound: no error');
cmp_ok($out, '<', 10, "memory bound: the scan ends early ($out rows)");
like($err, qr/DEBUG:  hnsw index scan reached memory limit after \d+ tuples/, 'memory bound: DEBUG line');
like($err, qr/HINT:  Increase hnsw\.scan_mem_multiplier to scan more tuples\./, 'memory bound: its hint');
my @lines = ($err =~ /reached memory limit/g);
is(scalar(@lines), 1, 'memory bound: said once per scan');

# the same scan inside a cursor, rescanned: the message again, and the backend is fine
($rc, $out, $err) = $node->psql('postgres', q{
    SET enable_seqscan = off;
    SET hnsw.iterative_scan = relaxed_order;
    SET hnsw.max_scan_tuples = 100000;
    SET work_mem = '64kB';
    SET client_min_messages = debug1;
    BEGIN;
    DECLARE c SCROLL CURSOR FOR SELECT i FROM t WHERE i % 3000 = 0 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 11;
    FETCH ALL FROM c;
    FETCH ABSOLUTE 0 FROM c;
    FETCH ALL FROM c;
    COMMIT;
    SELECT 'alive';
});
is($rc, 0, 'memory bound in a rescanned cursor: no error');
like($out, qr/alive$/, 'memory bound in a rescanned cursor: the backend survives');

# raising the multiplier lifts the bound
($rc, $out, $err) = filtered(
    "SET hnsw.max_scan_tuples = 100000; SET work_mem = '64kB'; SET hnsw.scan_mem_multiplier = 1000; SET client_min_messages = debug1;", 1);
is($out, '10', 'multiplier 1000: all ten matching rows');
unlike($err, qr/reached memory limit/, 'multiplier 1000: no memory-limit message');

$node->stop;
done_testing();
