// Node.js clients and ORMs against piramid's "vector" alias, the way applications use pgvector.
//
// Each client gets a fresh database (client_node_<name>), creates the extension as that
// application would (CREATE EXTENSION IF NOT EXISTS vector, or TypeORM's own handling), creates a
// table with a vector(3) column through the client's schema API where it has one, writes and reads
// vector values, runs k-NN with each operator and compares the order with the exact one computed
// here, creates an hnsw index (through the client's index API where it has one) and checks with
// enable_seqscan = off that EXPLAIN uses it. The adapters come from the pgvector npm package
// (pgvector/pg, pgvector/knex, pgvector/kysely, pgvector/sequelize); drizzle-orm and TypeORM have
// vector support of their own.
//
// Connects with the libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE) of a running server
// with piramid and its "vector" alias installed. Prints one line per client and exits 1 when any
// client fails. Run through run.sh (npm ci first).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const ROWS = [[1, [1, 2, 3]], [2, [4, 5, 6]], [3, [1, 1, 1]], [4, [-1, 0, 0.5]],
  [5, [0.25, -3.5, 2]]];
const QUERY = [3, 1, 2];
const OPS = ['<->', '<#>', '<=>', '<+>'];
const QTEXT = '[' + QUERY.join(',') + ']';

function dist(op, v, q = QUERY) {
  const dot = v.reduce((s, a, i) => s + a * q[i], 0);
  switch (op) {
    case '<->': return Math.hypot(...v.map((a, i) => a - q[i]));
    case '<#>': return -dot;
    case '<=>': return 1 - dot / (Math.hypot(...v) * Math.hypot(...q));
    case '<+>': return v.reduce((s, a, i) => s + Math.abs(a - q[i]), 0);
    default: throw new Error('unknown operator ' + op);
  }
}

// ids in exact distance order; the data is chosen with no near-ties, which is checked here so
// that float4 rounding on the server can never make the expected order ambiguous
function exactOrder(op) {
  const d = ROWS.map(([id, v]) => [id, dist(op, v)]).sort((a, b) => a[1] - b[1]);
  for (let i = 1; i < d.length; i++) {
    if (d[i][1] - d[i - 1][1] < 1e-3) throw new Error(`test data has a near-tie for ${op}`);
  }
  return d.map(([id]) => id);
}

function check(cond, what) {
  if (!cond) throw new Error(what);
}

const show = (x) => JSON.stringify(x);

function expectRows(got, what) {
  // got: [[id, embedding as number array], ...] in any order
  const want = new Map(ROWS);
  check(got.length === ROWS.length, `${what}: read back ${got.length} rows, wrote ${ROWS.length}`);
  for (const [id, v] of got) {
    const w = want.get(Number(id));
    check(Array.isArray(v), `${what}: id ${id} read back ${show(v)} (${typeof v}), not an array`);
    check(w !== undefined && v.length === w.length && v.every((x, i) => x === w[i]),
      `${what}: id ${id} read back ${show(v)}, wrote ${show(w)}`);
  }
}

function expectOrder(op, got, what) {
  const want = exactOrder(op).slice(0, got.length);
  check(got.length > 0 && show(got.map(Number)) === show(want),
    `${what} ${op}: order ${show(got)}, exact ${show(want)}`);
}

function expectIndex(planLines, index, what) {
  const plan = planLines.join('\n');
  check(plan.includes(`Index Scan using ${index}`), `${what}: plan does not use ${index}:\n${plan}`);
}

function version(pkg) {
  return JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules', pkg, 'package.json'))).version;
}

const adminDb = process.env.PGDATABASE || 'postgres';

async function admin(sql) {
  const c = new pg.Client({ database: adminDb });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

// the connection settings ORMs want spelled out (pg itself reads the environment)
function env() {
  const e = process.env;
  check(e.PGHOST && e.PGPORT && e.PGUSER, 'PGHOST, PGPORT and PGUSER must be set');
  return { host: e.PGHOST, port: Number(e.PGPORT), user: e.PGUSER, password: e.PGPASSWORD };
}

const planLines = (rows) => rows.map((r) => r['QUERY PLAN']);

// ---------------------------------------------------------------------------------------------

async function clientPg(db) {
  const pgvector = (await import('pgvector/pg')).default;
  const client = new pg.Client({ database: db });
  await client.connect();
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS vector');
    await pgvector.registerTypes(client);
    await client.query('CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))');
    for (const [id, v] of ROWS) {
      await client.query('INSERT INTO items (id, embedding) VALUES ($1, $2)',
        [id, pgvector.toSql(v)]);
    }
    const { rows } = await client.query('SELECT id, embedding FROM items');
    expectRows(rows.map((r) => [r.id, r.embedding]), 'pg');
    for (const op of OPS) {
      const res = await client.query(`SELECT id FROM items ORDER BY embedding ${op} $1 LIMIT 5`,
        [pgvector.toSql(QUERY)]);
      expectOrder(op, res.rows.map((r) => r.id), 'pg');
    }
    await client.query('CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_cosine_ops)');
    await client.query('SET enable_seqscan = off');
    const q = 'SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 3';
    const plan = await client.query('EXPLAIN ' + q, [pgvector.toSql(QUERY)]);
    expectIndex(planLines(plan.rows), 'items_hnsw', 'pg');
    const res = await client.query(q, [pgvector.toSql(QUERY)]);
    expectOrder('<=>', res.rows.map((r) => r.id), 'pg (index)');
  } finally {
    await client.end();
  }
  return version('pg') + ' + pgvector ' + version('pgvector');
}

async function clientKnex(db) {
  const Knex = (await import('knex')).default;
  const pgvector = (await import('pgvector/knex')).default; // adds table.vector(), l2Distance()...
  const knex = Knex({ client: 'pg', connection: { database: db }, pool: { min: 0, max: 2 } });
  try {
    await knex.schema.enableExtension('vector'); // pgvector/knex: CREATE EXTENSION IF NOT EXISTS
    await knex.schema.createTable('items', (table) => {
      table.integer('id').primary();
      table.vector('embedding', { dimensions: 3 });
    });
    await knex('items').insert(ROWS.map(([id, v]) => ({ id, embedding: pgvector.toSql(v) })));
    const rows = await knex('items').select('id', 'embedding');
    expectRows(rows.map((r) => [r.id, pgvector.fromSql(r.embedding)]), 'knex');
    const fns = { '<->': 'l2Distance', '<#>': 'maxInnerProduct', '<=>': 'cosineDistance',
      '<+>': 'l1Distance' };
    for (const op of OPS) {
      const got = await knex('items').select('id')
        .orderByRaw(knex.queryBuilder()[fns[op]]('embedding', QUERY)).limit(5);
      expectOrder(op, got.map((r) => r.id), 'knex');
    }
    // knex's index builder has no operator-class option; the column list takes a raw expression,
    // and the access method goes in storageEngineIndexType (indexType only knows 'unique')
    await knex.schema.alterTable('items', (table) => {
      table.index(knex.raw('?? vector_l1_ops', ['embedding']), 'items_hnsw',
        { storageEngineIndexType: 'hnsw' });
    });
    // one transaction pins one pooled connection, so the SET applies to the EXPLAIN
    await knex.transaction(async (trx) => {
      await trx.raw('SET enable_seqscan = off');
      const query = trx('items').select('id')
        .orderByRaw(trx.queryBuilder().l1Distance('embedding', QUERY)).limit(3);
      const { sql, bindings } = query.toSQL();
      const plan = await trx.raw('EXPLAIN ' + sql, bindings);
      expectIndex(planLines(plan.rows), 'items_hnsw', 'knex');
      expectOrder('<+>', (await query).map((r) => r.id), 'knex (index)');
    });
  } finally {
    await knex.destroy();
  }
  return version('knex');
}

async function clientKysely(db) {
  const { Kysely, PostgresDialect, sql } = await import('kysely');
  const pgvector = (await import('pgvector/kysely')).default;
  const pool = new pg.Pool({ database: db, max: 2 });
  const kdb = new Kysely({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`CREATE EXTENSION IF NOT EXISTS vector`.execute(kdb);
    await kdb.schema.createTable('items')
      .addColumn('id', 'integer', (col) => col.primaryKey())
      .addColumn('embedding', sql`vector(3)`)
      .execute();
    await kdb.insertInto('items')
      .values(ROWS.map(([id, v]) => ({ id, embedding: pgvector.toSql(v) }))).execute();
    const rows = await kdb.selectFrom('items').select(['id', 'embedding']).execute();
    expectRows(rows.map((r) => [r.id, pgvector.fromSql(r.embedding)]), 'kysely');
    const fns = { '<->': pgvector.l2Distance, '<#>': pgvector.maxInnerProduct,
      '<=>': pgvector.cosineDistance, '<+>': pgvector.l1Distance };
    for (const op of OPS) {
      const got = await kdb.selectFrom('items').select('id')
        .orderBy(fns[op]('embedding', QUERY)).limit(5).execute();
      expectOrder(op, got.map((r) => r.id), 'kysely');
    }
    await kdb.schema.createIndex('items_hnsw').on('items').using('hnsw')
      .expression(sql`embedding vector_ip_ops`).execute();
    // kdb.connection() pins one pooled connection for the SET and the EXPLAIN
    await kdb.connection().execute(async (conn) => {
      await sql`SET enable_seqscan = off`.execute(conn);
      const query = conn.selectFrom('items').select('id')
        .orderBy(pgvector.maxInnerProduct('embedding', QUERY)).limit(3);
      expectIndex(planLines(await query.explain()), 'items_hnsw', 'kysely');
      expectOrder('<#>', (await query.execute()).map((r) => r.id), 'kysely (index)');
    });
  } finally {
    await kdb.destroy(); // ends the pool
  }
  return version('kysely');
}

async function clientDrizzle(db) {
  const { sql, l2Distance, innerProduct, cosineDistance, l1Distance } = await import('drizzle-orm');
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { pgTable, integer, vector, index, getTableConfig } = await import('drizzle-orm/pg-core');
  const items = pgTable('items', {
    id: integer('id').primaryKey(),
    embedding: vector('embedding', { dimensions: 3 }),
  }, (table) => [index('items_hnsw').using('hnsw', table.embedding.op('vector_l2_ops'))]);

  const client = new pg.Client({ database: db });
  await client.connect();
  const ddb = drizzle({ client });
  try {
    await ddb.execute(sql`CREATE EXTENSION IF NOT EXISTS vector`);
    // drizzle-orm itself has no DDL (that is drizzle-kit, not used here): the table and its index
    // are created with raw SQL, the index statement from drizzle's own index definition above
    await ddb.execute(sql`CREATE TABLE items (id integer PRIMARY KEY, embedding vector(3))`);
    await ddb.insert(items).values(ROWS.map(([id, embedding]) => ({ id, embedding })));
    const rows = await ddb.select().from(items);
    expectRows(rows.map((r) => [r.id, r.embedding]), 'drizzle-orm');
    const fns = { '<->': l2Distance, '<#>': innerProduct, '<=>': cosineDistance,
      '<+>': l1Distance };
    for (const op of OPS) {
      const got = await ddb.select({ id: items.id }).from(items)
        .orderBy(fns[op](items.embedding, QUERY)).limit(5);
      expectOrder(op, got.map((r) => r.id), 'drizzle-orm');
    }
    const idx = getTableConfig(items).indexes[0].config;
    check(idx.method === 'hnsw' && idx.columns[0].indexConfig.opClass === 'vector_l2_ops',
      `drizzle-orm: index definition ${show({ method: idx.method, cols: idx.columns })}`);
    const cols = idx.columns.map((c) => `"${c.name}" ${c.indexConfig.opClass}`).join(', ');
    await ddb.execute(sql.raw(`CREATE INDEX "${idx.name}" ON items USING ${idx.method} (${cols})`));
    // one pg.Client: one session
    await ddb.execute(sql`SET enable_seqscan = off`);
    const query = ddb.select({ id: items.id }).from(items)
      .orderBy(l2Distance(items.embedding, QUERY)).limit(3);
    const plan = await ddb.execute(sql`EXPLAIN ${query}`);
    expectIndex(planLines(plan.rows), 'items_hnsw', 'drizzle-orm');
    expectOrder('<->', (await query).map((r) => r.id), 'drizzle-orm (index)');
  } finally {
    await client.end();
  }
  return version('drizzle-orm');
}

async function clientSequelize(db) {
  const { Sequelize, DataTypes, QueryTypes } = await import('sequelize');
  const pgvector = (await import('pgvector/sequelize')).default;
  pgvector.registerTypes(Sequelize); // DataTypes.VECTOR
  const e = env();
  const connect = () => new Sequelize(db, e.user, e.password || null, {
    dialect: 'postgres', host: e.host, port: e.port, logging: false, pool: { max: 2 } });
  // Sequelize reads the type OIDs (for its result parsers) once, on its first connection, so an
  // instance that was connected before the extension existed keeps returning vectors as text (as
  // with pgvector itself). Apps create the extension in a migration; here a first instance does
  // that and the one the app would run with connects afterwards.
  const setup = connect();
  try {
    await setup.query('CREATE EXTENSION IF NOT EXISTS vector');
  } finally {
    await setup.close();
  }
  const sequelize = connect();
  try {
    const Item = sequelize.define('Item', {
      id: { type: DataTypes.INTEGER, primaryKey: true },
      embedding: { type: DataTypes.VECTOR(3) },
    }, {
      tableName: 'items', timestamps: false,
      indexes: [{ name: 'items_hnsw', using: 'hnsw',
        fields: [{ name: 'embedding', operator: 'vector_l2_ops' }] }],
    });
    await Item.sync(); // creates the table and the hnsw index
    await Item.bulkCreate(ROWS.map(([id, embedding]) => ({ id, embedding })));
    await Item.create({ id: 99, embedding: [9, 9, 9] });
    await Item.destroy({ where: { id: 99 } });
    const rows = await Item.findAll();
    expectRows(rows.map((r) => [r.id, r.embedding]), 'sequelize');
    const fns = { '<->': pgvector.l2Distance, '<#>': pgvector.maxInnerProduct,
      '<=>': pgvector.cosineDistance, '<+>': pgvector.l1Distance };
    for (const op of OPS) {
      const got = await Item.findAll({ attributes: ['id'],
        order: fns[op]('embedding', QUERY, sequelize), limit: 5 });
      expectOrder(op, got.map((r) => r.id), 'sequelize');
    }
    const [{ indexdef }] = await sequelize.query(
      "SELECT indexdef FROM pg_indexes WHERE indexname = 'items_hnsw'", { type: QueryTypes.SELECT });
    check(/USING hnsw \(embedding vector_l2_ops\)/.test(indexdef),
      `sequelize: index created as ${indexdef}`);
    // a managed transaction pins one pooled connection for the SET and the EXPLAIN
    await sequelize.transaction(async (transaction) => {
      await sequelize.query('SET enable_seqscan = off', { transaction });
      // the index was built by sync() on the empty table, so the planner may pick it even with
      // seqscans allowed: check that the SET reached this session
      const [{ enable_seqscan: seqscan }] = await sequelize.query('SHOW enable_seqscan',
        { type: QueryTypes.SELECT, transaction });
      check(seqscan === 'off', `sequelize: enable_seqscan is ${seqscan} in the transaction`);
      const options = { attributes: ['id'], order: pgvector.l2Distance('embedding', QUERY, sequelize),
        limit: 3 };
      const select = sequelize.getQueryInterface().queryGenerator
        .selectQuery('items', { ...options }, Item).replace(/;\s*$/, '');
      const plan = await sequelize.query('EXPLAIN ' + select,
        { type: QueryTypes.SELECT, transaction });
      expectIndex(planLines(plan), 'items_hnsw', 'sequelize');
      const got = await Item.findAll({ ...options, transaction });
      expectOrder('<->', got.map((r) => r.id), 'sequelize (index)');
    });
  } finally {
    await sequelize.close();
  }
  return version('sequelize');
}

async function clientTypeorm(db) {
  await import('reflect-metadata');
  const { DataSource, Entity, PrimaryColumn, Column } = await import('typeorm');
  // what `@Entity('items') class Item { @PrimaryColumn('int') id; @Column(...) embedding }` is,
  // without a TypeScript/Babel decorator transform
  class Item {}
  PrimaryColumn('int')(Item.prototype, 'id');
  Column({ type: 'vector', length: 3, nullable: true })(Item.prototype, 'embedding');
  Entity('items')(Item);

  const e = env();
  // synchronize: true; TypeORM's postgres driver runs CREATE EXTENSION IF NOT EXISTS "vector"
  // itself when an entity has a vector column (checked below)
  const ds = new DataSource({ type: 'postgres', host: e.host, port: e.port, username: e.user,
    password: e.password, database: db, entities: [Item], synchronize: true, logging: false,
    poolSize: 2 });
  await ds.initialize();
  try {
    const ext = await ds.query("SELECT extname FROM pg_extension WHERE extname = 'vector'");
    check(ext.length === 1, 'typeorm: did not create the vector extension');
    const [{ format_type: coltype }] = await ds.query("SELECT format_type(atttypid, atttypmod) "
      + "FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'embedding'");
    check(coltype === 'vector(3)', `typeorm: synchronize made embedding ${coltype}`);
    const repo = ds.getRepository(Item);
    await repo.save(ROWS.map(([id, embedding]) => Object.assign(new Item(), { id, embedding })));
    const rows = await repo.find();
    expectRows(rows.map((r) => [r.id, r.embedding]), 'typeorm');
    for (const op of OPS) {
      const got = await repo.createQueryBuilder('item').orderBy(`embedding ${op} :q`)
        .setParameters({ q: QTEXT }).limit(5).getMany();
      expectOrder(op, got.map((r) => r.id), 'typeorm');
    }
    // TypeORM's @Index has no operator classes and its index types stop at brin: raw SQL
    await ds.query('CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops)');
    const runner = ds.createQueryRunner(); // one session for the SET and the EXPLAIN
    await runner.connect();
    try {
      await runner.query('SET enable_seqscan = off');
      const query = runner.manager.getRepository(Item).createQueryBuilder('item')
        .orderBy('embedding <-> :q').setParameters({ q: QTEXT }).limit(3);
      const [select, params] = query.getQueryAndParameters();
      expectIndex(planLines(await runner.query('EXPLAIN ' + select, params)), 'items_hnsw',
        'typeorm');
      expectOrder('<->', (await query.getMany()).map((r) => r.id), 'typeorm (index)');
    } finally {
      await runner.release();
    }
  } finally {
    await ds.destroy();
  }
  return version('typeorm');
}

const CLIENTS = [['pg', clientPg], ['knex', clientKnex], ['kysely', clientKysely],
  ['drizzle-orm', clientDrizzle], ['sequelize', clientSequelize], ['typeorm', clientTypeorm]];

async function main() {
  let failed = 0;
  for (const [name, fn] of CLIENTS) {
    const db = 'client_node_' + name.replace(/[^a-z0-9]/g, '_');
    try {
      await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await admin(`CREATE DATABASE ${db}`);
      const v = await fn(db);
      console.log(`client node/${name} ${v}: ok`);
    } catch (err) { // a failing client must not hide the others
      failed++;
      const reason = (err && err.message) || String(err);
      console.log(`client node/${name} ${safeVersion(name)}: FAIL: ${reason}`);
      if (process.env.PIRAMID_CLIENT_DEBUG) console.error(err);
    } finally {
      try {
        await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      } catch (err) {
        failed++;
        console.log(`client node/${name}: FAIL: dropping ${db}: ${err.message}`);
      }
    }
  }
  return failed;
}

function safeVersion(name) {
  try {
    return version(name);
  } catch {
    return '?';
  }
}

main().then((failed) => {
  process.exitCode = failed ? 1 : 0;
  // every client closed its connections, so the process ends by itself; if not, that is a bug
  setTimeout(() => {
    console.log('client node: FAIL: open handles keep the process alive after the tests');
    process.exit(1);
  }, 10000).unref();
}, (err) => {
  console.log('client node: FAIL: ' + ((err && err.stack) || err));
  process.exitCode = 1;
});
