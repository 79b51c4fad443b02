import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The process logger: JSON lines on stdout. Fields that could carry secrets are redacted
 * wherever they appear in a log object.
 */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'password', '*.password'],
      censor: '[redacted]',
    },
  });
}
