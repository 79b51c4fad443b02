import express, { type Request, type Response } from 'express';
import { createRequire } from 'node:module';
import path from 'node:path';

/** Swagger UI's files, served from the installed swagger-ui-dist package: never from a CDN. */
const SWAGGER_UI_DIRECTORY = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tickforge API</title>
<link rel="stylesheet" href="assets/swagger-ui.css">
<script src="assets/swagger-ui-bundle.js"></script>
<script src="init.js"></script>
</head>
<body>
<div id="reference"></div>
</body>
</html>
`;

// A file rather than an inline script: the Content-Security-Policy allows scripts from 'self' only.
const INIT = `window.addEventListener('load', () => {
  window.reference = SwaggerUIBundle({
    url: '../openapi.json',
    dom_id: '#reference',
    deepLinking: true,
    persistAuthorization: true,
    tryItOutEnabled: false,
  });
});
`;

/**
 * The interactive API reference (Swagger UI) at /api/docs, drawn from /api/openapi.json. Public,
 * like the document itself; trying a call needs the token (the Authorize button).
 */
export function apiDocsRouter(): express.Router {
  const router = express.Router();
  router.get('/', (req: Request, res: Response, next) => {
    // Relative asset URLs need the trailing slash.
    if (!req.originalUrl.split('?')[0].endsWith('/')) return res.redirect(301, `${req.baseUrl}/`);
    next();
  });
  router.get('/', (_req: Request, res: Response) => {
    res.type('html').set('Cache-Control', 'no-cache').send(PAGE);
  });
  router.get('/init.js', (_req: Request, res: Response) => {
    res.type('js').send(INIT);
  });
  router.use('/assets', express.static(SWAGGER_UI_DIRECTORY, { index: false, fallthrough: false }));
  return router;
}
