import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Knex } from '../../db/knex.js';
import { UniversesRepository } from '../../db/universes.repository.js';
import { symbolSchema } from '../../domain/symbols.js';
import { universeKeySchema } from '../../domain/universes.js';
import { parseIsoDate } from '../../domain/zone.js';
import { parseOrThrow } from '../../validation.js';
import { requireRole, type Tokens } from '../auth.js';
import { HttpError } from '../errors.js';

const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a YYYY-MM-DD date')
  .refine((value) => {
    try {
      parseIsoDate(value);
      return true;
    } catch {
      return false;
    }
  }, 'must be a calendar date');

const membersQuery = z.object({ asOf: calendarDate.optional() }).strict();

const changesQuery = z
  .object({
    from: calendarDate.optional(),
    to: calendarDate.optional(),
    symbol: symbolSchema.optional(),
    before: z.coerce.number().int('must be a whole number').positive('must be above 0').optional(),
    limit: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000, 'must be at most 10000').default(1_000),
  })
  .strict();

/** GET /universes, /universes/:key?asOf=, /universes/:key/changes: universes, members at a date, audit trail. */
export function universesRouter(db: Knex, tokens: Tokens): Router {
  const router = Router();
  const universes = new UniversesRepository(db);

  const findUniverse = async (req: Request) => {
    const key = parseOrThrow(universeKeySchema, String(req.params.key), 'universe key');
    const universe = await universes.get(key);
    if (!universe) throw new HttpError(404, `no universe ${key}`);
    return universe;
  };

  router.get('/universes', requireRole('read', tokens), async (_req: Request, res: Response) => {
    res.json({ universes: await universes.list() });
  });

  router.get('/universes/:key', requireRole('read', tokens), async (req: Request, res: Response) => {
    const query = parseOrThrow(membersQuery, req.query, 'query');
    const universe = await findUniverse(req);
    const members = await universes.members(universe.key, query.asOf);
    res.json({ ...universe, asOf: query.asOf ?? null, count: members.length, members });
  });

  router.get('/universes/:key/changes', requireRole('read', tokens), async (req: Request, res: Response) => {
    const query = parseOrThrow(changesQuery, req.query, 'query');
    const universe = await findUniverse(req);
    const changes = await universes.changes(universe.key, query);
    const next = changes.length === query.limit ? changes[changes.length - 1].id : null;
    res.json({ key: universe.key, changes, next });
  });

  return router;
}
