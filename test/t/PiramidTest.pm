# Helpers shared by the TAP tests: loading fvecs datasets, k-NN queries, recall.
package PiramidTest;
use strict;
use warnings;
use Exporter 'import';
our @EXPORT = qw(read_fvecs vec_literal copy_sql knn_ids recall_at create_node shared_data
  verify_clean index_scan_ids heap_ids same_ids);

use PostgreSQL::Test::Cluster;
use Test::More;

sub shared_data {
    my $dir = $ENV{PIRAMID_SHARED_DATA} // "$ENV{PIRAMID_ROOT}/../shared/data";
    return $dir;
}

# Reads up to $limit vectors from an .fvecs file: a list of array refs.
sub read_fvecs {
    my ($path, $limit) = @_;
    open(my $fh, '<:raw', $path) or die "cannot open $path: $!";
    my @out;
    while (!defined($limit) || @out < $limit) {
        my $n = read($fh, my $hdr, 4);
        last if !$n;
        my $dim = unpack('l<', $hdr);
        read($fh, my $buf, 4 * $dim) == 4 * $dim or die "short read in $path";
        push @out, [ unpack('f<*', $buf) ];
    }
    close $fh;
    return \@out;
}

sub vec_literal {
    my ($v) = @_;
    return '[' . join(',', map { sprintf('%.9g', $_) } @$v) . ']';
}

# COPY script loading vectors as (id, v) with ids from $first.
sub copy_sql {
    my ($table, $vecs, $first) = @_;
    $first //= 0;
    my $sql = "COPY $table (id, v) FROM STDIN;\n";
    my $id = $first;
    for my $v (@$vecs) {
        $sql .= $id++ . "\t" . vec_literal($v) . "\n";
    }
    return $sql . "\\.\n";
}

# Runs one k-NN query per vector in one session; returns a list of id array refs.
sub knn_ids {
    my ($node, $table, $op, $queries, $k, $settings) = @_;
    $settings //= '';
    my $sql = "$settings\n";
    for my $q (@$queries) {
        $sql .= "SELECT coalesce(string_agg(id::text, ',' ORDER BY n), '') FROM (SELECT id, row_number() OVER () n FROM (SELECT id FROM $table ORDER BY v $op '"
          . vec_literal($q) . "' LIMIT $k) s) s2;\n";
    }
    my $out = $node->safe_psql('postgres', $sql);
    my @rows = split /\n/, $out;
    return [ map { [ split /,/, $_ ] } @rows ];
}

# Mean recall of $got against $truth (both lists of id lists), at $k.
sub recall_at {
    my ($got, $truth, $k) = @_;
    my ($hit, $total) = (0, 0);
    for my $i (0 .. $#$truth) {
        my %t = map { $_ => 1 } @{ $truth->[$i] }[ 0 .. $k - 1 ];
        $hit += scalar grep { $t{$_} } @{ $got->[$i] // [] };
        $total += $k;
    }
    return $total ? $hit / $total : 0;
}

# Asserts that piramid_hnsw_verify($index) returns no row; on failure prints how many and the
# first 50 of them.
sub verify_clean {
    my ($node, $index, $label, $db) = @_;
    $db //= 'postgres';
    my $out = $node->safe_psql($db, "SELECT problem FROM piramid_hnsw_verify('$index')");
    my @problems = grep { $_ ne '' } split /\n/, $out;
    my $ok = is(scalar(@problems), 0, $label);
    if (!$ok) {
        my $n = scalar @problems;
        diag("piramid_hnsw_verify('$index') reported $n problem(s):");
        diag($_) for @problems[ 0 .. ($n > 50 ? 49 : $n - 1) ];
    }
    return $ok;
}

# The ids (sorted numerically) of every row a full iterative hnsw index scan of $table returns
# for the query vector literal $query, as an array ref. Fails the test (and returns undef) when
# the plan is not an index scan.
sub index_scan_ids {
    my ($node, $table, $query, $op, $db) = @_;
    $op //= '<->';
    $db //= 'postgres';
    my $settings = "SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off;
      SET hnsw.iterative_scan = relaxed_order; SET hnsw.ef_search = 1000;
      SET hnsw.max_scan_tuples = 2147483647; SET work_mem = '64MB';
      SET hnsw.scan_mem_multiplier = 100;";
    my $sql = "SELECT id FROM $table ORDER BY v $op '$query' LIMIT 100000000";
    my $plan = $node->safe_psql($db, "$settings EXPLAIN (COSTS OFF) $sql");
    if ($plan !~ /Index Scan using/) {
        fail("full scan of $table uses the hnsw index");
        diag($plan);
        return undef;
    }
    my $out = $node->safe_psql($db, "$settings SELECT coalesce(string_agg(id::text, ','), '') FROM ($sql) s");
    return [ sort { $a <=> $b } grep { $_ ne '' } split /,/, $out ];
}

# The ids (sorted numerically) of the rows of $table with a non-NULL v, read from the heap.
sub heap_ids {
    my ($node, $table, $db) = @_;
    $db //= 'postgres';
    my $out = $node->safe_psql($db,
        "SET enable_indexscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off;
         SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM $table WHERE v IS NOT NULL");
    return [ grep { $_ ne '' } split /,/, $out ];
}

# Asserts that two id lists hold the same ids; on failure prints how many are missing from and
# extra in $got, with a few examples.
sub same_ids {
    my ($got, $want, $label) = @_;
    $got //= [];
    my %g = map { $_ => 1 } @$got;
    my %w = map { $_ => 1 } @$want;
    my @missing = grep { !$g{$_} } @$want;
    my @extra = grep { !$w{$_} } @$got;
    my $dups = scalar(@$got) - scalar(keys %g);
    my $ok = ok(!@missing && !@extra && !$dups, $label);
    if (!$ok) {
        diag(sprintf('%d ids expected, %d returned: %d missing (%s), %d unexpected (%s), %d returned twice',
            scalar(@$want), scalar(@$got), scalar(@missing), join(',', grep { defined } @missing[0 .. 9]),
            scalar(@extra), join(',', grep { defined } @extra[0 .. 9]), $dups));
    }
    return $ok;
}

sub create_node {
    my ($name, %opts) = @_;
    my $node = PostgreSQL::Test::Cluster->new($name);
    $node->init(%opts);
    $node->append_conf('postgresql.conf', "shared_buffers = 128MB\nmax_connections = 40\n");
    return $node;
}

1;
