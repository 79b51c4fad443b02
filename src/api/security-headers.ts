import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';

/**
 * The security headers every answer carries (helmet's defaults), as name and value pairs. They do
 * not depend on the request, so helmet runs once here and each answer only copies them.
 */
export const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = (() => {
  const headers: Array<[string, string]> = [];
  const recorder = {
    setHeader(name: string, value: string | number) {
      headers.push([name, String(value)]);
    },
    removeHeader() {},
  };
  const middleware = helmet({
    // Bull Board is served over plain HTTP on developer machines; do not force https sub-requests.
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
  let ran = false;
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error instanceof Error ? error : new Error(String(error));
    ran = true;
  });
  if (!ran) throw new Error('helmet did not finish synchronously; its headers cannot be computed once');
  return headers;
})();

/** Express middleware setting SECURITY_HEADERS. */
export function securityHeaders() {
  return (_req: Request, res: Response, next: NextFunction) => {
    for (const [name, value] of SECURITY_HEADERS) res.setHeader(name, value);
    next();
  };
}
