# The GPU paths on machines without a usable GPU, in real backends: no driver (the default here),
# the CUDA toolkit's stub driver on LD_LIBRARY_PATH, and a missing plugin. piramid.gpu = on gives
# a clear ERROR, auto gives the same results as off, the backend survives, and the postmaster
# never maps the plugin (it is loaded lazily by backends only).
use strict;
use warnings;
use File::Temp qw(tempdir);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pkglib = `pg_config --pkglibdir`;
chomp $pkglib;
my $plugin_installed = -f "$pkglib/piramid_cuda.so";

sub setup_node {
    my ($name) = @_;
    my $node = PostgreSQL::Test::Cluster->new($name);
    $node->init;
    # loaded into the postmaster too: it must still never load the CUDA plugin
    $node->append_conf('postgresql.conf', "shared_preload_libraries = 'piramid'\n");
    return $node;
}

sub check_node {
    my ($node, $label, $reason_re) = @_;
    $node->safe_psql('postgres', q{
        CREATE EXTENSION IF NOT EXISTS piramid;
        DROP TABLE IF EXISTS g;
        CREATE TABLE g (id int, v vector(3));
        INSERT INTO g SELECT i, format('[%s,%s,%s]', i % 11, i % 7, i % 3)::vector
          FROM generate_series(1, 2000) i;
    });
    my ($rc, $out, $err) = $node->psql('postgres', q{
        SET piramid.gpu = on;
        SELECT count(*) FROM piramid_knn('g', 'v', ARRAY['[1,2,3]']::vector[], 5);
    });
    isnt($rc, 0, "$label: piramid.gpu = on fails");
    like($err, qr/piramid\.gpu is on but no usable GPU was found/, "$label: clear error");
    like($err, $reason_re, "$label: the error names the reason");

    my $q = q{SELECT string_agg(format('%s %s %s', query_no, row_ctid, distance), ',')
                FROM piramid_knn('g', 'v', ARRAY['[1,2,3]', '[4,0,1]']::vector[], 7, 'cosine')};
    my $auto = $node->safe_psql('postgres',
        "SET piramid.gpu = auto; SET piramid.gpu_min_batch = 1; SET piramid.gpu_min_vectors = 1; $q");
    my $off = $node->safe_psql('postgres', "SET piramid.gpu = off; $q");
    is($auto, $off, "$label: auto gives the same results as off");
    isnt($off, '', "$label: results are not empty");

    # Same session: the info probes the plugin; then the maps of this backend and of the
    # postmaster are read.
    my $res = $node->safe_psql('postgres', q{
        SELECT status, reason FROM piramid_gpu_info();
        SELECT pg_read_file('/proc/' || pg_backend_pid() || '/maps') LIKE '%piramid_cuda%';
        SELECT pg_read_file('/proc/' || split_part(pg_read_file('postmaster.pid'), E'\n', 1)
                            || '/maps') LIKE '%piramid_cuda%';
        SELECT pg_read_file('/proc/' || split_part(pg_read_file('postmaster.pid'), E'\n', 1)
                            || '/maps') LIKE '%/piramid.so%';
        SELECT 'alive';
    });
    my @lines = split /\n/, $res;
    like($lines[0], qr/^unavailable\|/, "$label: status unavailable");
    like($lines[0], $reason_re, "$label: piramid_gpu_info gives the reason");
    is($lines[1], $plugin_installed && $label ne 'plugin missing' ? 't' : 'f',
       "$label: the backend maps the plugin only when it exists");
    is($lines[2], 'f', "$label: the postmaster never maps the plugin");
    is($lines[3], 't', "$label: the postmaster did load piramid.so (preload)");
    is($lines[4], 'alive', "$label: backend survives");
}

# 1. the machine as it is: no libcuda.so.1 (or the plugin is absent in a CPU-only build)
{
    my $node = setup_node('nodrv');
    $node->start;
    my $re = $plugin_installed ? qr/no driver/ : qr/plugin missing/;
    check_node($node, $plugin_installed ? 'no driver' : 'plugin missing', $re);
    $node->stop;
}

# 2. the plugin path pointing nowhere
{
    my $node = setup_node('noplugin');
    $node->append_conf('postgresql.conf',
        "piramid.gpu_plugin_path = '/nonexistent/piramid_cuda.so'\n");
    $node->start;
    check_node($node, 'plugin missing', qr/plugin missing/);
    $node->stop;
}

# 3. the toolkit's stub libcuda as libcuda.so.1 on the server's LD_LIBRARY_PATH
SKIP: {
    my @stubs = grep { -f $_ } (glob('/usr/local/cuda*/lib*/stubs/libcuda.so'),
                                glob('/usr/local/cuda*/targets/*/lib/stubs/libcuda.so'));
    skip 'no CUDA plugin installed (CPU-only build)', 11 unless $plugin_installed;
    skip 'no stub libcuda.so found in the CUDA toolkit', 11 unless @stubs;
    my $dir = tempdir(CLEANUP => 1);
    symlink($stubs[0], "$dir/libcuda.so.1") or die "symlink: $!";
    my $node = setup_node('stubdrv');
    local $ENV{LD_LIBRARY_PATH} = $dir;
    $node->start;
    check_node($node, 'stub driver', qr/stub driver/);
    $node->stop;
}

done_testing();
