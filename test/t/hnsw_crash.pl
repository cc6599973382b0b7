# kill -9 of a backend during CREATE INDEX and during inserts, with restart_after_crash = on:
# after crash recovery the index is absent or valid, and queries work.
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
  INSERT INTO big SELECT i, (SELECT ('[' || string_agg(((i * 7919 + j * 104729) % 1000 / 10.0)::text, ',') || ']') FROM generate_series(1, 32) j)::vector
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
    is($node->safe_psql('postgres', "SELECT coalesce(string_agg(problem, E'\\n'), '') FROM piramid_hnsw_verify('big_idx')"), '',
    'index left by the crashed build is valid');
} else {
    pass('crashed build left no index');
}
$node->safe_psql('postgres', 'DROP INDEX IF EXISTS big_idx');

# 2. Crash during inserts into an indexed table.
$node->safe_psql('postgres', q{
  CREATE TABLE ins (id serial PRIMARY KEY, v vector(32));
  CREATE INDEX ins_idx ON ins USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 16);
});
($in, $out, $err) = ('', '', '');
$h = IPC::Run::start([ 'psql', '-X', '-d', $node->connstr('postgres') ],
    '<', \$in, '>', \$out, '2>', \$err);
$in .= "INSERT INTO ins (v) SELECT v FROM big;\n";
$h->pump_nb;
$pid = wait_for_pid("SELECT pid FROM pg_stat_activity WHERE query LIKE 'INSERT INTO ins%' AND state = 'active' LIMIT 1");
ok($pid ne '', 'bulk insert is running');
usleep(1_500_000);
kill 'KILL', $pid;
$h->finish;
ok(wait_restart(), 'server restarted after kill -9 during inserts');
is($node->safe_psql('postgres', "SELECT coalesce(string_agg(problem, E'\\n'), '') FROM piramid_hnsw_verify('ins_idx')"), '',
    'index verifies after crash recovery');
# Inserts after recovery work, and the new rows are found.
$node->safe_psql('postgres', q{INSERT INTO ins (id, v) VALUES (-1, (SELECT ('[' || string_agg('500', ',') || ']') FROM generate_series(1, 32))::vector)});
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SELECT id FROM ins ORDER BY v <-> (SELECT ('[' || string_agg('500', ',') || ']') FROM generate_series(1, 32))::vector LIMIT 1}),
    '-1', 'a row inserted after recovery is found through the index');
is($node->safe_psql('postgres', "SELECT coalesce(string_agg(problem, E'\\n'), '') FROM piramid_hnsw_verify('ins_idx')"), '',
    'index verifies after more inserts');

# 3. statement_timeout cancels a large build promptly; the next build succeeds.
my $t0 = time();
my ($ret, $stdout, $stderr) = $node->psql('postgres',
    "SET statement_timeout = '500ms'; CREATE INDEX big_idx ON big USING hnsw (v vector_l2_ops) WITH (m = 32, ef_construction = 400);");
my $elapsed = time() - $t0;
like($stderr, qr/canceling statement due to statement timeout/, 'statement_timeout cancels the build');
ok($elapsed < 5, "cancel is prompt ($elapsed s)");
$node->safe_psql('postgres', "CREATE INDEX big_idx ON big USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 16)");
is($node->safe_psql('postgres', "SELECT coalesce(string_agg(problem, E'\\n'), '') FROM piramid_hnsw_verify('big_idx')"), '',
    'the next build succeeds and verifies');

$node->stop;
done_testing();
