import express, { type Request, type Response } from 'express';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireRole, type Tokens } from '../api/auth.js';
import { explorerPage, scenarioIndexPage, scenarioPage, type ConsoleLinks } from './pages.js';

/** Where the console is mounted in the web process. */
export const CONSOLE_PATH = '/console';

/** The compiled browser modules (src/console/browser, built by its own tsconfig). */
const BROWSER_DIRECTORY = fileURLToPath(new URL('./browser/', import.meta.url));

/** TradingView's lightweight-charts, served from the installed package: never from a CDN. */
const CHARTS_FILE = path.join(
  path.dirname(createRequire(import.meta.url).resolve('lightweight-charts/package.json')),
  'dist',
  'lightweight-charts.standalone.production.js',
);

const RUN_ID = /^[a-z0-9_]+-[0-9a-f]{16}$/;

/**
 * The read-only web console: a bars explorer and scenario run pages drawn with
 * lightweight-charts from the JSON API. Any token that may read opens it; a browser without
 * one is asked for it (basic auth, the token as password).
 */
export function consoleRouter(tokens: Tokens, links: ConsoleLinks): express.Router {
  const router = express.Router();
  router.use(requireRole('read', tokens));
  const page = (html: string) => (_req: Request, res: Response) => {
    res.type('html').set('Cache-Control', 'no-cache').send(html);
  };
  router.get('/', page(explorerPage(links)));
  router.get('/scenarios', page(scenarioIndexPage(links)));
  router.get('/scenarios/go', (req: Request, res: Response) => {
    const id = typeof req.query.id === 'string' ? req.query.id.trim() : '';
    res.redirect(303, RUN_ID.test(id) ? `${CONSOLE_PATH}/scenarios/${id}` : `${CONSOLE_PATH}/scenarios`);
  });
  router.get('/scenarios/:id', page(scenarioPage(links)));
  router.get('/assets/lightweight-charts.js', (_req: Request, res: Response) => {
    res.sendFile(CHARTS_FILE);
  });
  router.use('/assets', express.static(BROWSER_DIRECTORY, { index: false, fallthrough: false }));
  return router;
}
