"""Python clients and ORMs against piramid's "vector" alias, the way applications use pgvector.

Each client gets a fresh database, creates the extension as that application would
(CREATE EXTENSION IF NOT EXISTS vector), writes and reads vector values (text, and binary where
the client speaks it), runs k-NN with each operator and compares the order with the exact one,
creates an hnsw index through the client's own API where it has one and checks that EXPLAIN
uses it. pgvector-python is not a Debian package, so each client gets the few adapter lines a
user would write (README, "Using from your ORM").

Run with Debian's /usr/bin/python3 (python3-psycopg2, python3-psycopg, python3-asyncpg,
python3-sqlalchemy, python3-django) and the libpq environment (PGHOST, PGPORT, PGUSER) of a
running server. Exits 1 when any client fails.
"""
import asyncio
import os
import struct
import sys
import traceback

ROWS = [(1, [1.0, 2.0, 3.0]), (2, [4.0, 5.0, 6.0]), (3, [1.0, 1.0, 1.0]), (4, [-1.0, 0.0, 0.5]),
        (5, [0.25, -3.5, 2.0])]
QUERY = [3.0, 1.0, 2.0]
OPS = ('<->', '<#>', '<=>', '<+>')


def exact_order(op, rows=ROWS, q=QUERY):
    def dist(v):
        if op == '<->':
            return sum((a - b) ** 2 for a, b in zip(v, q)) ** 0.5
        if op == '<#>':
            return -sum(a * b for a, b in zip(v, q))
        if op == '<=>':
            dot = sum(a * b for a, b in zip(v, q))
            return 1 - dot / (sum(a * a for a in v) ** 0.5 * sum(b * b for b in q) ** 0.5)
        return sum(abs(a - b) for a, b in zip(v, q))
    return [i for i, v in sorted(rows, key=lambda r: (dist(r[1]), r[0]))]


def vec_text(v):
    return '[' + ','.join(repr(float(x)) for x in v) + ']'


def parse_text(s):
    return [float(x) for x in s.strip('[]').split(',')] if s is not None else None


# pgvector's binary format: uint16 dim, uint16 unused, dim x float4, network order
def vec_pack(v):
    return struct.pack('>HH%df' % len(v), len(v), 0, *v)


def vec_unpack(b):
    dim, _ = struct.unpack_from('>HH', b)
    return list(struct.unpack_from('>%df' % dim, b, 4))


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def expect_rows(got, what):
    want = dict(ROWS)
    check(dict(got) == want, '%s: read back %r, wrote %r' % (what, dict(got), want))


def expect_order(op, got, what):
    want = exact_order(op)[:len(got)]
    check(list(got) == want, '%s %s: order %r, exact %r' % (what, op, list(got), want))


def expect_index(plan_lines, index, what):
    plan = '\n'.join(plan_lines)
    check('Index Scan using %s' % index in plan, '%s: plan does not use %s:\n%s'
          % (what, index, plan))


def admin():
    import psycopg2
    conn = psycopg2.connect(dbname=os.environ.get('PGDATABASE', 'postgres'))
    conn.autocommit = True
    return conn


def fresh_db(name):
    conn = admin()
    with conn.cursor() as cur:
        cur.execute('DROP DATABASE IF EXISTS %s' % name)
        cur.execute('CREATE DATABASE %s' % name)
    conn.close()
    return name


def drop_db(name):
    conn = admin()
    with conn.cursor() as cur:
        cur.execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % name)
    conn.close()


# ---------------------------------------------------------------------------------------------

def client_psycopg2(db):
    import psycopg2
    import psycopg2.extensions as ext

    class Vector:
        def __init__(self, v):
            self.v = v

    ext.register_adapter(Vector, lambda x: ext.AsIs("'%s'::vector" % vec_text(x.v)))
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute('CREATE EXTENSION IF NOT EXISTS vector')
    cur.execute("SELECT 'vector'::regtype::oid")
    oid = cur.fetchone()[0]
    ext.register_type(ext.new_type((oid,), 'VECTOR', lambda s, c: parse_text(s)), conn)
    cur.execute('CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))')
    for i, v in ROWS:
        cur.execute('INSERT INTO items VALUES (%s, %s)', (i, Vector(v)))
    cur.execute('SELECT id, embedding FROM items')
    expect_rows(cur.fetchall(), 'psycopg2')
    for op in OPS:
        cur.execute('SELECT id FROM items ORDER BY embedding %s %%s LIMIT 5' % op, (Vector(QUERY),))
        expect_order(op, [r[0] for r in cur.fetchall()], 'psycopg2')
    cur.execute('CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops)')
    cur.execute('SET enable_seqscan = off')
    cur.execute('EXPLAIN SELECT id FROM items ORDER BY embedding <-> %s LIMIT 3', (Vector(QUERY),))
    expect_index([r[0] for r in cur.fetchall()], 'items_hnsw', 'psycopg2')
    cur.execute('SELECT id FROM items ORDER BY embedding <-> %s LIMIT 3', (Vector(QUERY),))
    expect_order('<->', [r[0] for r in cur.fetchall()], 'psycopg2 (index)')
    conn.close()
    return psycopg2.__version__.split()[0]


def client_psycopg3(db):
    import psycopg
    from psycopg.adapt import Dumper, Loader
    from psycopg.pq import Format
    from psycopg.types import TypeInfo

    class Vector(list):
        pass

    conn = psycopg.connect(dbname=db, autocommit=True)
    conn.execute('CREATE EXTENSION IF NOT EXISTS vector')
    info = TypeInfo.fetch(conn, 'vector')
    info.register(conn)

    class TextDumper(Dumper):
        oid = info.oid

        def dump(self, obj):
            return vec_text(obj).encode()

    class BinaryDumper(TextDumper):
        format = Format.BINARY

        def dump(self, obj):
            return vec_pack(obj)

    class TextLoader(Loader):
        def load(self, data):
            return parse_text(bytes(data).decode())

    class BinaryLoader(Loader):
        format = Format.BINARY

        def load(self, data):
            return vec_unpack(bytes(data))

    conn.adapters.register_dumper(Vector, TextDumper)
    conn.adapters.register_dumper(Vector, BinaryDumper)
    conn.adapters.register_loader(info.oid, TextLoader)
    conn.adapters.register_loader(info.oid, BinaryLoader)
    conn.execute('CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))')
    # text parameters for the first rows, binary for the rest
    for i, v in ROWS[:2]:
        conn.execute('INSERT INTO items VALUES (%s, %t)', (i, Vector(v)))
    for i, v in ROWS[2:]:
        conn.execute('INSERT INTO items VALUES (%s, %b)', (i, Vector(v)))
    expect_rows(conn.execute('SELECT id, embedding FROM items').fetchall(), 'psycopg 3 text')
    expect_rows(conn.cursor(binary=True).execute('SELECT id, embedding FROM items').fetchall(),
                'psycopg 3 binary')
    for op in OPS:
        for fmt in ('%t', '%b'):
            rows = conn.execute('SELECT id FROM items ORDER BY embedding %s %s LIMIT 5'
                                % (op, fmt), (Vector(QUERY),)).fetchall()
            expect_order(op, [r[0] for r in rows], 'psycopg 3 ' + fmt)
    # COPY ... FORMAT BINARY, both ways
    conn.execute('CREATE TABLE copied (id int PRIMARY KEY, embedding vector(3))')
    cur = conn.cursor()
    with cur.copy('COPY copied (id, embedding) FROM STDIN WITH (FORMAT BINARY)') as copy:
        copy.set_types(['int4', 'vector'])
        for i, v in ROWS:
            copy.write_row((i, Vector(v)))
    with cur.copy('COPY copied (id, embedding) TO STDOUT WITH (FORMAT BINARY)') as copy:
        copy.set_types(['int4', 'vector'])
        expect_rows(list(copy.rows()), 'psycopg 3 COPY BINARY')
    conn.execute('CREATE INDEX copied_hnsw ON copied USING hnsw (embedding vector_cosine_ops)')
    conn.execute('SET enable_seqscan = off')
    plan = conn.execute('EXPLAIN SELECT id FROM copied ORDER BY embedding <=> %b LIMIT 3',
                        (Vector(QUERY),)).fetchall()
    expect_index([r[0] for r in plan], 'copied_hnsw', 'psycopg 3')
    rows = conn.execute('SELECT id FROM copied ORDER BY embedding <=> %b LIMIT 3',
                        (Vector(QUERY),)).fetchall()
    expect_order('<=>', [r[0] for r in rows], 'psycopg 3 (index)')
    conn.close()
    return psycopg.__version__


def client_asyncpg(db):
    import asyncpg

    async def run():
        conn = await asyncpg.connect(database=db, host=os.environ['PGHOST'],
                                     port=int(os.environ['PGPORT']), user=os.environ['PGUSER'])
        await conn.execute('CREATE EXTENSION IF NOT EXISTS vector')
        schema = await conn.fetchval("SELECT typnamespace::regnamespace::text FROM pg_type "
                                     "WHERE oid = 'vector'::regtype")
        await conn.set_type_codec('vector', schema=schema, format='binary',
                                  encoder=vec_pack, decoder=vec_unpack)
        await conn.execute('CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))')
        await conn.executemany('INSERT INTO items VALUES ($1, $2)', ROWS)
        expect_rows([(r['id'], r['embedding']) for r in
                     await conn.fetch('SELECT id, embedding FROM items')], 'asyncpg')
        for op in OPS:
            rows = await conn.fetch('SELECT id FROM items ORDER BY embedding %s $1 LIMIT 5' % op,
                                    QUERY)
            expect_order(op, [r['id'] for r in rows], 'asyncpg')
        await conn.execute('CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_ip_ops)')
        await conn.execute('SET enable_seqscan = off')
        plan = await conn.fetch('EXPLAIN SELECT id FROM items ORDER BY embedding <#> $1 LIMIT 3',
                                QUERY)
        expect_index([r[0] for r in plan], 'items_hnsw', 'asyncpg')
        rows = await conn.fetch('SELECT id FROM items ORDER BY embedding <#> $1 LIMIT 3', QUERY)
        expect_order('<#>', [r['id'] for r in rows], 'asyncpg (index)')
        await conn.close()

    asyncio.run(run())
    return asyncpg.__version__


def client_sqlalchemy(db):
    import sqlalchemy as sa
    from sqlalchemy.orm import Session, declarative_base
    from sqlalchemy.types import UserDefinedType

    class Vector(UserDefinedType):
        cache_ok = True

        def __init__(self, dim):
            self.dim = dim

        def get_col_spec(self, **kw):
            return 'VECTOR(%d)' % self.dim

        def bind_processor(self, dialect):
            return lambda v: None if v is None else vec_text(v)

        def result_processor(self, dialect, coltype):
            return parse_text

        class comparator_factory(UserDefinedType.Comparator):
            def l2_distance(self, other):
                return self.op('<->', return_type=sa.Float)(other)

            def max_inner_product(self, other):
                return self.op('<#>', return_type=sa.Float)(other)

            def cosine_distance(self, other):
                return self.op('<=>', return_type=sa.Float)(other)

            def l1_distance(self, other):
                return self.op('<+>', return_type=sa.Float)(other)

    Base = declarative_base()

    class Item(Base):
        __tablename__ = 'items'
        id = sa.Column(sa.Integer, primary_key=True)
        embedding = sa.Column(Vector(3))

    sa.Index('items_hnsw', Item.embedding, postgresql_using='hnsw',
             postgresql_with={'m': 16, 'ef_construction': 64},
             postgresql_ops={'embedding': 'vector_l1_ops'})
    engine = sa.create_engine('postgresql+psycopg2:///%s?host=%s&port=%s&user=%s' % (
        db, os.environ['PGHOST'], os.environ['PGPORT'], os.environ['PGUSER']))
    with engine.begin() as conn:
        conn.execute(sa.text('CREATE EXTENSION IF NOT EXISTS vector'))
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([Item(id=i, embedding=v) for i, v in ROWS])
        s.commit()
        expect_rows([(it.id, it.embedding) for it in s.query(Item)], 'SQLAlchemy')
        q = QUERY
        for op, fn in (('<->', Item.embedding.l2_distance), ('<#>', Item.embedding.max_inner_product),
                       ('<=>', Item.embedding.cosine_distance), ('<+>', Item.embedding.l1_distance)):
            got = [it.id for it in s.query(Item).order_by(fn(q)).limit(5)]
            expect_order(op, got, 'SQLAlchemy')
        s.execute(sa.text('SET enable_seqscan = off'))
        stmt = sa.select(Item.id).order_by(Item.embedding.l1_distance(q)).limit(3)
        compiled = stmt.compile(engine)
        plan = s.connection().exec_driver_sql(
            'EXPLAIN ' + str(compiled),
            {k: (vec_text(v) if isinstance(v, list) else v)
             for k, v in compiled.params.items()}).fetchall()
        expect_index([r[0] for r in plan], 'items_hnsw', 'SQLAlchemy')
        expect_order('<+>', [r[0] for r in s.execute(stmt)], 'SQLAlchemy (index)')
    engine.dispose()
    return sa.__version__


def client_django(db):
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': db,
                               'HOST': os.environ['PGHOST'], 'PORT': os.environ['PGPORT'],
                               'USER': os.environ['PGUSER']}},
        INSTALLED_APPS=['django.contrib.postgres'],
        USE_TZ=True, DEFAULT_AUTO_FIELD='django.db.models.AutoField')
    django.setup()
    from django.contrib.postgres.indexes import PostgresIndex
    from django.contrib.postgres.operations import CreateExtension
    from django.db import connection, models
    from django.db.migrations.state import ProjectState

    class VectorField(models.Field):
        def __init__(self, *args, dimensions=None, **kwargs):
            self.dimensions = dimensions
            super().__init__(*args, **kwargs)

        def db_type(self, connection):
            return 'vector(%d)' % self.dimensions if self.dimensions else 'vector'

        def from_db_value(self, value, expression, connection):
            return parse_text(value)

        def get_prep_value(self, value):
            return None if value is None else vec_text(value)

    class HnswIndex(PostgresIndex):
        suffix = 'hnsw'

    class Distance(models.Func):
        output_field = models.FloatField()

        def __init__(self, op, field, vector):
            self.arg_joiner = ' %s ' % op
            super().__init__(models.F(field), models.Value(vector, output_field=VectorField()))

        function = ''
        template = '%(expressions)s'

    class Item(models.Model):
        embedding = VectorField(dimensions=3)

        class Meta:
            app_label = 'piramid_clients'
            indexes = [HnswIndex(name='items_hnsw', fields=['embedding'],
                                 opclasses=['vector_l2_ops'])]

    # what pgvector-python's VectorExtension() migration operation is: CreateExtension('vector')
    with connection.schema_editor() as editor:
        CreateExtension('vector').database_forwards('piramid_clients', editor, ProjectState(),
                                                    ProjectState())
        editor.create_model(Item)
    for i, v in ROWS:
        Item.objects.create(id=i, embedding=v)
    expect_rows([(it.id, it.embedding) for it in Item.objects.all()], 'Django')
    for op in OPS:
        got = [it.id for it in Item.objects.order_by(Distance(op, 'embedding', QUERY))[:5]]
        expect_order(op, got, 'Django')
    with connection.cursor() as cur:
        cur.execute('SET enable_seqscan = off')
    qs = Item.objects.order_by(Distance('<->', 'embedding', QUERY))[:3]
    expect_index(qs.explain().split('\n'), 'items_hnsw', 'Django')
    expect_order('<->', [it.id for it in qs], 'Django (index)')
    connection.close()
    return django.get_version()


CLIENTS = [('psycopg2', client_psycopg2), ('psycopg3', client_psycopg3),
           ('asyncpg', client_asyncpg), ('sqlalchemy', client_sqlalchemy),
           ('django', client_django)]


def main():
    failed = 0
    for name, fn in CLIENTS:
        db = fresh_db('client_py_' + name)
        try:
            version = fn(db)
            print('client python/%s %s: ok' % (name, version), flush=True)
        except Exception as e:  # a failing client must not hide the others
            failed += 1
            print('client python/%s: FAIL: %s' % (name, e), flush=True)
            traceback.print_exc()
        finally:
            drop_db(db)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
