# kill -9 of a backend during CREATE INDEX and during inserts, with restart_after_crash = on:
# after crash recovery the index is absent or valid; after a crash during inserts every
# committed row is found by an index scan and no row of the transaction in flight is.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use PiramidTest;

my $node = create_node('crash');
$node->append_conf('postgresql.conf', "restart_after_crash = on\n");
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION piramid;
  CREATE TABLE big (id int PRIMARY KEY, v vector(32));
  -- 60,000 distinct pseudo-random vectors (exact duplicates would share graph nodes and make
  -- the build too quick to interrupt)
  INSERT INTO big SELECT i, (SELECT ('[' || string_agg((abs(hashint4(i * 32 + j)) % 10000 / 100.0)::text, ',') || ']') FROM generate_series(1, 32) j)::vector
    FROM generate_series(1, 60000) i;
});

sub wait_for_pid {
    my ($sql) = @_;
    for (1 .. 600) {
        my $pid = $node->safe_psql('postgres', $sql);
        return $pid if $pid ne '';
        usleep(50_000);
    }
    return '';
}

sub wait_restart {
    for (1 .. 600) {
        my ($ret) = $node->psql('postgres', 'SELECT 1');
        return 1 if $ret == 0;
        usleep(100_000);
    }
    return 0;
}

# 1. Crash during CREATE INDEX.
my ($in, $out, $err) = ('', '', '');
my $h = IPC::Run::start(
    [ 'psql', '-X', '-d', $node->connstr('postgres') ],
    '<', \$in, '>', \$out, '2>', \$err);
$in .= "SET maintenance_work_mem = '256MB'; CREATE INDEX big_idx ON big USING hnsw (v vector_l2_ops);\n";
$h->pump_nb;
my $pid = wait_for_pid("SELECT pid FROM pg_stat_progress_create_index LIMIT 1");
ok($pid ne '', 'CREATE INDEX is running');
usleep(300_000);
kill 'KILL', $pid;
$h->finish;
ok(wait_restart(), 'server restarted after kill -9 during CREATE INDEX');
my $exists = $node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'big_idx'");
if ($exists eq '1') {
    verify_clean($node, 'big_idx', 'index left by the crashed build is valid');
} else {
    pass('crashed build left no index');
}
$node->safe_psql('postgres', 'DROP INDEX IF EXISTS big_idx');

# 2. Crash during inserts into an indexed table. Session A commits one row per statement
# (ids 100001..), session B inserts 60,000 rows (ids 200001..) in one transaction; B's backend
# is killed while both run, which restarts every backend and replays the WAL.
$node->safe_psql('postgres', q{
  CREATE TABLE ins (id int PRIMARY KEY, v vector(32));
  CREATE INDEX ins_idx ON ins USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 16);
  INSERT INTO ins SELECT id, v FROM big WHERE id <= 2000;
  CREATE PROCEDURE insert_one_by_one() LANGUAGE plpgsql AS $$
  BEGIN
    FOR i IN 1 .. 20000 LOOP
      INSERT INTO ins SELECT 100000 + id, v FROM big WHERE id = i;
      COMMIT;
    END LOOP;
  END $$;
});
my ($in_a, $out_a, $err_a) = ('', '', '');
my $h_a = IPC::Run::start([ 'psql', '-X', '-d', $node->connstr('postgres') ],
    '<', \$in_a, '>', \$out_a, '2>', \$err_a);
$in_a .= "CALL insert_one_by_one();\n";
$h_a->pump_nb;
($in, $out, $err) = ('', '', '');
$h = IPC::Run::start([ 'psql', '-X', '-d', $node->connstr('postgres') ],
    '<', \$in, '>', \$out, '2>', \$err);
$in .= "INSERT INTO ins SELECT 200000 + id, v FROM big;\n";
$h->pump_nb;
$pid = wait_for_pid("SELECT pid FROM pg_stat_activity WHERE query LIKE 'INSERT INTO ins SELECT 200000%' AND state = 'active' LIMIT 1");
ok($pid ne '', 'bulk insert is running');
# Wait until session A has committed some rows, and B has been inserting for a while.
my $committed_a = 0;
for (1 .. 600) {
    $committed_a = $node->safe_psql('postgres', 'SELECT count(*) FROM ins WHERE id > 100000 AND id < 200000');
    last if $committed_a >= 50;
    usleep(50_000);
}
cmp_ok($committed_a, '>=', 50, "session A committed rows before the crash ($committed_a)");
usleep(1_000_000);
$committed_a = $node->safe_psql('postgres', 'SELECT count(*) FROM ins WHERE id > 100000 AND id < 200000');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid AND state = 'active'"), '1',
    'the bulk insert is still in flight when its backend is killed');
kill 'KILL', $pid;
$h->finish;
$h_a->finish;
ok(wait_restart(), 'server restarted after kill -9 during inserts');
verify_clean($node, 'ins_idx', 'index verifies after crash recovery');
my $heap = heap_ids($node, 'ins');
is(scalar(grep { $_ > 200000 } @$heap), 0, 'no row of the transaction in flight is in the table');
cmp_ok(scalar(grep { $_ > 100000 && $_ < 200000 } @$heap), '>=', $committed_a,
    'every row session A committed before the crash is in the table');
is(scalar(grep { $_ <= 2000 } @$heap), 2000, 'the rows committed before both sessions are there');
my $q500 = '[' . join(',', ('50') x 32) . ']';
my $found = index_scan_ids($node, 'ins', $q500);
same_ids($found, $heap, 'a full iterative index scan returns every committed row after crash recovery');
is(scalar(grep { $_ > 200000 } @{ $found // [] }), 0,
    'the index scan returns no row of the transaction in flight');
# Inserts after recovery work, and the new rows are found.
$node->safe_psql('postgres', q{INSERT INTO ins (id, v) VALUES (-1, (SELECT ('[' || string_agg('500', ',') || ']') FROM generate_series(1, 32))::vector)});
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SELECT id FROM ins ORDER BY v <-> (SELECT ('[' || string_agg('500', ',') || ']') FROM generate_series(1, 32))::vector LIMIT 1}),
    '-1', 'a row inserted after recovery is found through the index');
verify_clean($node, 'ins_idx', 'index verifies after more inserts');
same_ids(index_scan_ids($node, 'ins', $q500), heap_ids($node, 'ins'),
    'a full iterative index scan returns every row after more inserts');

# 3. The same with wide elements (vector(2000) at m = 16: every element keeps its lists in a
# list tuple, written after the element): a crash mid-insert may leave an element without its
# list tuple or a list tuple no element points at. After recovery the index verifies, every
# committed row is found, VACUUM frees what the dead rows left, and inserts go on.
$node->safe_psql('postgres', q{
  CREATE TABLE wide (id int PRIMARY KEY, v vector(2000));
  CREATE INDEX wide_idx ON wide USING hnsw (v vector_l2_ops);
  CREATE FUNCTION wide_vec(i int) RETURNS vector LANGUAGE sql IMMUTABLE AS $$
    SELECT ('[' || string_agg((abs(hashint4(i * 2000 + j)) % 1000 / 10.0)::text, ',') || ']')::vector
    FROM generate_series(1, 2000) j $$;
  INSERT INTO wide SELECT i, wide_vec(i) FROM generate_series(1, 200) i;
  CREATE PROCEDURE wide_one_by_one() LANGUAGE plpgsql AS $$
  BEGIN
    FOR i IN 1 .. 3000 LOOP
      INSERT INTO wide VALUES (100000 + i, wide_vec(i + 500));
      COMMIT;
    END LOOP;
  END $$;
});
($in_a, $out_a, $err_a) = ('', '', '');
$h_a = IPC::Run::start([ 'psql', '-X', '-d', $node->connstr('postgres') ],
    '<', \$in_a, '>', \$out_a, '2>', \$err_a);
$in_a .= "CALL wide_one_by_one();
";
$h_a->pump_nb;
($in, $out, $err) = ('', '', '');
$h = IPC::Run::start([ 'psql', '-X', '-d', $node->connstr('postgres') ],
    '<', \$in, '>', \$out, '2>', \$err);
$in .= "INSERT INTO wide SELECT 200000 + i, wide_vec(i + 5000) FROM generate_series(1, 5000) i;\n";
$h->pump_nb;
$pid = wait_for_pid("SELECT pid FROM pg_stat_activity WHERE query LIKE 'INSERT INTO wide SELECT 200000%' AND state = 'active' LIMIT 1");
ok($pid ne '', 'bulk insert of wide rows is running');
$committed_a = 0;
for (1 .. 600) {
    $committed_a = $node->safe_psql('postgres', 'SELECT count(*) FROM wide WHERE id > 100000 AND id < 200000');
    last if $committed_a >= 20;
    usleep(50_000);
}
cmp_ok($committed_a, '>=', 20, "wide rows committed before the crash ($committed_a)");
usleep(500_000);
$committed_a = $node->safe_psql('postgres', 'SELECT count(*) FROM wide WHERE id > 100000 AND id < 200000');
kill 'KILL', $pid;
$h->finish;
$h_a->finish;
ok(wait_restart(), 'server restarted after kill -9 during wide inserts');
verify_clean($node, 'wide_idx', 'wide index verifies after crash recovery');
my $wq = $node->safe_psql('postgres', 'SELECT wide_vec(7)::text');
$heap = heap_ids($node, 'wide');
is(scalar(grep { $_ > 200000 } @$heap), 0, 'no wide row of the transaction in flight is in the table');
cmp_ok(scalar(grep { $_ > 100000 && $_ < 200000 } @$heap), '>=', $committed_a,
    'every wide row committed before the crash is in the table');
same_ids(index_scan_ids($node, 'wide', $wq), $heap,
    'a full iterative scan of the wide index returns every committed row after recovery');
$node->safe_psql('postgres', 'VACUUM wide');
verify_clean($node, 'wide_idx', 'wide index verifies after VACUUM');
$node->safe_psql('postgres', 'INSERT INTO wide SELECT 300000 + i, wide_vec(i + 20000) FROM generate_series(1, 50) i');
verify_clean($node, 'wide_idx', 'wide index verifies after more inserts');
same_ids(index_scan_ids($node, 'wide', $wq), heap_ids($node, 'wide'),
    'a full iterative scan of the wide index returns every row after VACUUM and more inserts');

# 4. statement_timeout cancels a large build (no timing asserted: a loaded machine may be slow
# to get there); it leaves no index, and the next build succeeds.
my ($ret, $stdout, $stderr) = $node->psql('postgres',
    "SET statement_timeout = '500ms'; CREATE INDEX big_idx ON big USING hnsw (v vector_l2_ops) WITH (m = 32, ef_construction = 400);");
like($stderr, qr/canceling statement due to statement timeout/, 'statement_timeout cancels the build');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'big_idx'"), '0',
    'the canceled build left no index');
$node->safe_psql('postgres', "CREATE INDEX big_idx ON big USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 16)");
verify_clean($node, 'big_idx', 'the next build succeeds and verifies');
same_ids(index_scan_ids($node, 'big', $q500), heap_ids($node, 'big'),
    'a full iterative index scan of the new index returns every row');

$node->stop;
done_testing();
