# Helpers shared by the TAP tests: loading fvecs datasets, k-NN queries, recall.
package PiramidTest;
use strict;
use warnings;
use Exporter 'import';
our @EXPORT = qw(read_fvecs vec_literal copy_sql knn_ids recall_at create_node shared_data);

use PostgreSQL::Test::Cluster;

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

sub create_node {
    my ($name, %opts) = @_;
    my $node = PostgreSQL::Test::Cluster->new($name);
    $node->init(%opts);
    $node->append_conf('postgresql.conf', "shared_buffers = 128MB\nmax_connections = 40\n");
    return $node;
}

1;
