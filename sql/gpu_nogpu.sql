-- GPU settings on a machine without a usable GPU (plugin missing here; the TAP test covers the
-- stub driver and no driver): on gives a clear error, auto gives the same results as off, and
-- the backend keeps working. The reason shown depends on the build, so only stable columns are
-- printed.
SET piramid.gpu_plugin_path = '/nonexistent/piramid_cuda.so';
SELECT setting, plugin, plugin_path, status, device_count, devices IS NULL AS no_devices
FROM piramid_gpu_info();
SELECT reason LIKE 'plugin missing%' AS reason_plugin_missing FROM piramid_gpu_info();
CREATE TABLE gpu_t (id int, v vector(2));
INSERT INTO gpu_t SELECT i, format('[%s,%s]', i % 13, i % 17)::vector FROM generate_series(1, 300) i;
SET piramid.gpu = on;
\set VERBOSITY sqlstate
SELECT count(*) FROM piramid_knn('gpu_t', 'v', ARRAY['[1,1]']::vector[], 3);
\set VERBOSITY terse
SELECT count(*) FROM piramid_knn('gpu_t', 'v', ARRAY['[1,1]']::vector[], 3);
\set VERBOSITY default
-- auto with thresholds that ask for the GPU: falls back to the CPU, same answer as off
SET piramid.gpu = auto;
SET piramid.gpu_min_batch = 1;
SET piramid.gpu_min_vectors = 1;
CREATE TEMP TABLE r_auto AS
  SELECT * FROM piramid_knn('gpu_t', 'v', ARRAY['[1,1]', '[5,9]']::vector[], 10, 'l1');
SELECT last_engine LIKE 'cpu/%' AS used_cpu FROM piramid_gpu_info();
SET piramid.gpu = off;
CREATE TEMP TABLE r_off AS
  SELECT * FROM piramid_knn('gpu_t', 'v', ARRAY['[1,1]', '[5,9]']::vector[], 10, 'l1');
SELECT (SELECT count(*) FROM r_auto) AS n,
       (SELECT count(*) FROM (TABLE r_auto EXCEPT ALL TABLE r_off) d) AS differences;
-- the backend survived and still works
SELECT 1 AS alive;
-- the GUCs
SHOW piramid.gpu;
SET piramid.gpu = 'maybe';
SET piramid.gpu_staging_mb = 1;
SHOW piramid.gpu_min_batch;
RESET ALL;
SHOW piramid.gpu;
SHOW piramid.gpu_min_vectors;
SHOW piramid.gpu_staging_mb;
SHOW piramid.gpu_max_backends;
DROP TABLE gpu_t;
