-- amvalidate of the hnsw and ivfflat operator classes: every shipped one is valid; a class
-- without a distance function or without an ORDER BY operator is reported (INFO) and invalid.
-- (A support number beyond the method's is refused by CREATE OPERATOR CLASS itself.)
SELECT am.amname, count(*) AS opclasses, bool_and(amvalidate(oc.oid)) AS all_valid
  FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
 WHERE am.amname IN ('hnsw', 'ivfflat')
 GROUP BY am.amname ORDER BY am.amname;
CREATE OPERATOR CLASS bad_no_order FOR TYPE vector USING hnsw AS
    FUNCTION 1 vector_l2_squared_distance(vector, vector);
CREATE OPERATOR CLASS bad_support FOR TYPE vector USING hnsw AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_l2_squared_distance(vector, vector),
    FUNCTION 4 vector_norm(vector);
CREATE OPERATOR CLASS bad_no_distance FOR TYPE vector USING ivfflat AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 3 l2_distance(vector, vector);
SELECT opcname, amvalidate(oid) FROM pg_opclass
 WHERE opcname IN ('bad_no_order', 'bad_support', 'bad_no_distance') ORDER BY opcname;
DROP OPERATOR CLASS bad_no_order USING hnsw;
DROP OPERATOR CLASS bad_no_distance USING ivfflat;
