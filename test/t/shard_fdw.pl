# Scale-out with PostgreSQL's own machinery (README "Sharding"): a coordinator whose table is
# hash-partitioned over postgres_fdw foreign tables on three shard clusters. The foreign servers
# name piramid in `extensions`, so ORDER BY embedding <-> $1 is shipped to each shard, which
# answers from its hnsw index; the coordinator merges the shards' ordered streams. The shards'
# sessions run strict_order iterative scans (the server's libpq `options`), so a shard returns
# as many rows as the coordinator fetches, in distance order: k above ef_search and filters
# that remove most rows stay correct. Writes are routed to the right shard.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PostgreSQL::Test::Utils;
use PostgreSQL::Test::Cluster;
use Test::More;
use PiramidTest;

my $dim = 8;
my $rows = 3000;
my @shards = map { create_node("shard$_") } (0 .. 2);
# preloaded on the shards: piramid_stat_indexes then counts the coordinator's sessions there
$_->append_conf('postgresql.conf', "shared_preload_libraries = 'piramid'\n") for @shards;
my $coord = create_node('coord');
$_->start for (@shards, $coord);

my $table_sql = qq{CREATE TABLE items (id int PRIMARY KEY, tenant int NOT NULL, embedding vector($dim))};
for my $s (@shards) {
    $s->safe_psql('postgres', qq{
        CREATE EXTENSION piramid;
        $table_sql;
        CREATE INDEX items_embedding ON items USING hnsw (embedding vector_l2_ops);
    });
}

# the coordinator: the partitioned table, one foreign partition per shard, and a local copy of
# the same rows (the single node the answers are compared with)
my $servers = '';
for my $i (0 .. 2) {
    my ($host, $port) = ($shards[$i]->host, $shards[$i]->port);
    $servers .= qq{
        CREATE SERVER shard$i FOREIGN DATA WRAPPER postgres_fdw
            OPTIONS (host '$host', port '$port', dbname 'postgres', extensions 'piramid',
                     options '-c hnsw.iterative_scan=strict_order -c hnsw.ef_search=40');
        CREATE USER MAPPING FOR CURRENT_USER SERVER shard$i;
        CREATE FOREIGN TABLE items_$i PARTITION OF items FOR VALUES WITH (MODULUS 3, REMAINDER $i)
            SERVER shard$i OPTIONS (table_name 'items');
    };
}
$coord->safe_psql('postgres', qq{
    CREATE EXTENSION piramid;
    CREATE EXTENSION postgres_fdw;
    CREATE TABLE items (id int NOT NULL, tenant int NOT NULL, embedding vector($dim))
        PARTITION BY HASH (id);
    $servers
    CREATE TABLE single (id int PRIMARY KEY, tenant int NOT NULL, embedding vector($dim));
    SELECT setseed(0.42);
    INSERT INTO single
        SELECT i, i % 50, (SELECT array_agg(round(random() * 1000)::real) FROM generate_series(1, $dim) WHERE i > 0)::vector
        FROM generate_series(1, $rows) i;
    CREATE INDEX single_embedding ON single USING hnsw (embedding vector_l2_ops);
    ANALYZE single;
});

# writes through the coordinator land on the shard the hash picks
$coord->safe_psql('postgres', q{INSERT INTO items SELECT * FROM single});
my $total = 0;
for my $i (0 .. 2) {
    my $on_shard = $shards[$i]->safe_psql('postgres', 'SELECT count(*) FROM items');
    my $routed = $coord->safe_psql('postgres', "SELECT count(*) FROM ONLY items_$i");
    is($on_shard, $routed, "shard $i holds the rows routed to it ($on_shard)");
    cmp_ok($on_shard, '>', $rows / 5, "shard $i got a fair share");
    $total += $on_shard;
    $shards[$i]->safe_psql('postgres', 'ANALYZE items');
}
is($total, $rows, 'every row is on exactly one shard');
my $misrouted = $coord->safe_psql('postgres', q{
    SELECT count(*) FROM items WHERE NOT satisfies_hash_partition('items'::regclass, 3,
        substring(tableoid::regclass::text from '\d+$')::int, id)});
is($misrouted, '0', 'every row is on the shard its hash names');

my @queries = map {
    my $q = $_;
    '[' . join(',', map { ($q * 37 + $_ * 101) % 1000 } (1 .. $dim)) . ']'
} (1 .. 15);

# the coordinator's k-NN, the exact answer over all rows, and the single node's index answer
sub ids {
    my ($node, $sql) = @_;
    return join(',', split(/\n/, $node->safe_psql('postgres', $sql)));
}
sub sharded {
    my ($q, $k, $where) = @_;
    $where //= '';
    return ids($coord, qq{SELECT id FROM items $where ORDER BY embedding <-> '$q' LIMIT $k});
}
sub exact {
    my ($q, $k, $where) = @_;
    $where //= '';
    return ids($coord, qq{SET enable_indexscan = off;
        SELECT id FROM single $where ORDER BY embedding <-> '$q', id LIMIT $k});
}

my $plan = $coord->safe_psql('postgres',
    qq{EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM items ORDER BY embedding <-> '$queries[0]' LIMIT 10});
like($plan, qr/Merge Append/, 'the coordinator merges the shards in distance order');
like($plan, qr/Remote SQL: SELECT .* ORDER BY \(?embedding OPERATOR\(public\.<->\)/s,
    'the ORDER BY is shipped to the shards');

# LIMIT 150 is more than the three shards' ef_search (40) together: without iterative scans on
# the shards at most 120 rows could come back. The rows must come in distance order (the merge
# is exact); the set is an approximate index's, so it is scored as recall against the exact
# top 150 (measured 0.9996: one row of 2,250 missed).
my ($same10, $n150, $ordered, $hits) = (0, 0, 0, 0);
for my $q (@queries) {
    $same10++ if sharded($q, 10) eq exact($q, 10);
    my @rows = map { [ split(/\|/) ] } split(/\n/, $coord->safe_psql('postgres',
        qq{SELECT id, embedding <-> '$q' FROM items ORDER BY embedding <-> '$q' LIMIT 150}));
    $n150++ if @rows == 150;
    $ordered++ unless grep { $rows[$_][1] < $rows[$_ - 1][1] } (1 .. $#rows);
    my %want = map { $_ => 1 } split(/,/, exact($q, 150));
    $hits += grep { $want{ $_->[0] } } @rows;
}
is($same10, scalar(@queries), 'LIMIT 10: the sharded answer is the exact answer for every query');
is($n150, scalar(@queries), 'LIMIT 150 (above the shards\' ef_search together): 150 rows for every query');
is($ordered, scalar(@queries), 'LIMIT 150: rows in distance order for every query');
cmp_ok($hits / (150 * scalar(@queries)), '>=', 0.995, "LIMIT 150: recall against the exact top 150 ($hits hits)");

for my $i (0 .. 2) {
    my $scans = $shards[$i]->safe_psql('postgres',
        q{SELECT scans FROM piramid_stat_indexes WHERE indexrelname = 'items_embedding'});
    cmp_ok($scans || 0, '>=', 2 * scalar(@queries), "shard $i answered from its hnsw index ($scans scans)");
}

# piramid.fdw_limit_fetch (on by default): under LIMIT 10 each shard is asked for 10 rows per
# round trip, not postgres_fdw's fetch_size of 100; the shards' stat views count the rows their
# scans handed out. The answers are the same either way.
sub shard_tuples {
    my $sum = 0;
    $sum += $_->safe_psql('postgres', q{SELECT coalesce(sum(tuples_returned), 0)
        FROM piramid_stat_indexes WHERE indexrelname = 'items_embedding'}) for @shards;
    return $sum;
}
my %tuples;
for my $setting ('on', 'off') {
    $_->safe_psql('postgres', 'SELECT piramid_stat_reset()') for @shards;
    my $same = 0;
    for my $q (@queries) {
        $same++ if ids($coord, qq{SET piramid.fdw_limit_fetch = $setting;
            SELECT id FROM items ORDER BY embedding <-> '$q' LIMIT 10}) eq exact($q, 10);
    }
    is($same, scalar(@queries), "fdw_limit_fetch $setting: the exact answer for every query");
    $tuples{$setting} = shard_tuples();
}
cmp_ok($tuples{on}, '<=', 20 * 3 * scalar(@queries),
    "fdw_limit_fetch on: at most 20 rows a shard a query ($tuples{on} in all)");
cmp_ok($tuples{off}, '>=', 100 * 3 * scalar(@queries),
    "fdw_limit_fetch off: postgres_fdw's 100 rows a shard a query ($tuples{off} in all)");

# a filter that keeps 2% of the rows (tenant = 7): pushed to the shards, which keep scanning
# until they have the rows the coordinator asks for
my ($same_f, $n_f) = (0, 0);
for my $q (@queries[0 .. 9]) {
    my $got = sharded($q, 10, 'WHERE tenant = 7');
    $n_f++ if scalar(split(/,/, $got)) == 10;
    $same_f++ if $got eq exact($q, 10, 'WHERE tenant = 7');
}
is($n_f, 10, 'filtered (2% of rows): 10 rows for every query');
is($same_f, 10, 'filtered: the exact answer for every query');

# updates and deletes through the coordinator reach the shard that holds the row
$coord->safe_psql('postgres', qq{
    UPDATE items SET embedding = '[5000,5000,5000,5000,5000,5000,5000,5000]' WHERE id = 17;
    DELETE FROM items WHERE id = 18;
});
is(sharded('[5000,5000,5000,5000,5000,5000,5000,5000]', 1), '17', 'an updated row is found by k-NN at once');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM items WHERE id = 18'), '0', 'a deleted row is gone');

# aggregates run on the coordinator over the shards' rows
is($coord->safe_psql('postgres', q{SELECT avg(embedding) = (SELECT avg(embedding) FROM items) FROM items}),
    't', 'avg(vector) over the sharded table');

$_->stop for ($coord, @shards);
done_testing();
