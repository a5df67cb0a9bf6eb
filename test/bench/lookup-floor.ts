import fastify, { type FastifyInstance } from 'fastify';
import { type Db } from 'mongodb';

/** A read a lookup makes by `_id`: its collection and its projection. */
export interface ReadShape {
  collection: string;
  projection: Record<string, 1>;
}

/** The two reads of a lookup: the dossier, projected to its binding, then the citizen. */
export interface LookupReads {
  dossier: ReadShape;
  citizen: ReadShape;
}

/** The variable that hands the floor its {@link LookupReads}, as JSON. */
export const FLOOR_READS_ENV = 'LIENTHONG_FLOOR_READS';

/**
 * The floor of bench:lookup: the least a lookup can cost in a Node process, against which the
 * lookup service's CPU per answer is weighed. Fastify and the mongodb driver, with no auth, policy
 * or audit: each `GET /v1/citizens/{id}` with `X-Dossier-Id` makes the lookup service's two
 * projected reads, one after the other as it does, and answers the citizen document as JSON.
 * `/metrics` counts the reads and the answers, so that the bench can divide by them once the
 * requests in flight are done.
 */
export function buildFloor(db: Db, reads: LookupReads): FastifyInstance {
  // No response schema: JSON.stringify of the document, the least the answer can cost.
  const app = fastify();
  let readCount = 0;
  let answers = 0;
  const read = (shape: ReadShape, id: string) => {
    readCount += 1;
    return db.collection(shape.collection).findOne({ _id: id as never }, { projection: shape.projection });
  };
  app.get<{ Params: { id: string } }>('/v1/citizens/:id', async (request, reply) => {
    const dossierId = request.headers['x-dossier-id'];
    if (typeof dossierId !== 'string') return reply.code(400).send({ error: 'X-Dossier-Id is missing' });
    if (!(await read(reads.dossier, dossierId))) return reply.code(404).send({ error: 'No such dossier' });
    const citizen = await read(reads.citizen, request.params.id);
    if (!citizen) return reply.code(404).send({ error: 'No such citizen' });
    answers += 1;
    return citizen;
  });
  app.get('/readyz', async () => ({ ready: true }));
  app.get('/metrics', async (_request, reply) =>
    reply.type('text/plain').send(`floor_reads_total ${readCount}\nfloor_answers_total ${answers}\n`),
  );
  return app;
}
