-- The opt-in alias (make install-vector-alias): piramid installed under pgvector's name, for
-- applications and ORMs that run CREATE EXTENSION [IF NOT EXISTS] vector.
\set regress_db :DBNAME
SELECT string_agg(pg_describe_object(classid, objid, objsubid), E'\n' ORDER BY 1) AS piramid_objects
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'piramid') \gset

-- One or the other in a database: piramid is installed here.
CREATE EXTENSION vector;
CREATE EXTENSION IF NOT EXISTS vector;

CREATE DATABASE piramid_alias_regress;
\c piramid_alias_regress
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS vector;
SELECT extname, extversion, extrelocatable FROM pg_extension WHERE extname IN ('piramid', 'vector')
 ORDER BY 1;
-- exactly piramid's objects, now members of "vector"
SELECT string_agg(pg_describe_object(classid, objid, objsubid), E'\n' ORDER BY 1) = :'piramid_objects'
       AS same_objects
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vector');

-- what an application then does
CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector(3));
INSERT INTO items (embedding) VALUES ('[1,2,3]'), ('[4,5,6]'), ('[1,1,1]'), ('[3,1,2]');
CREATE INDEX ON items USING hnsw (embedding vector_l2_ops);
CREATE INDEX ON items USING hnsw (embedding vector_cosine_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 3;
SELECT id FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 3;
SELECT id FROM items ORDER BY embedding <=> '[3,1,2]' LIMIT 2;
SELECT avg(embedding) FROM items;
RESET enable_seqscan;

-- and piramid cannot join it here
CREATE EXTENSION piramid;
DROP EXTENSION vector CASCADE;
CREATE EXTENSION piramid;
CREATE EXTENSION vector;
DROP EXTENSION piramid;

\c :regress_db
DROP DATABASE piramid_alias_regress;
