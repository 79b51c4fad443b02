import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * With `gather`, JSON lines wait until GATHER_BYTES of them are ready or GATHER_MS have passed
 * and go out in one write: the web process logs a line per request, and a write per line cost
 * it about 6 % of its CPU under load (and whatever reads its output as many reads).
 */
const GATHER_BYTES = 8 * 1024;
const GATHER_MS = 100;

/**
 * The process logger on stdout: readable lines when stdout is a terminal, JSON lines otherwise
 * (a process manager, a container, a pipe: what log shippers read). Fields that could carry
 * secrets are redacted wherever they appear in a log object.
 */
export function createLogger(
  service: string,
  level = 'info',
  { terminal = Boolean(process.stdout.isTTY), gather = false }: { terminal?: boolean; gather?: boolean } = {},
): Logger {
  const options = {
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'password', '*.password'],
      censor: '[redacted]',
    },
  };
  // Synchronous, in this thread: a line is on the terminal before the process can exit.
  if (terminal) return pino(options, pretty({ sync: true, colorize: true, ignore: 'pid' }));
  // JSON lines are written asynchronously, lines logged while a write is in flight going out
  // together in the next one (a busy worker logs two per job); pino flushes what is left when
  // the process exits.
  const gathered = gather ? { minLength: GATHER_BYTES, periodicFlush: GATHER_MS } : {};
  return pino(options, pino.destination({ dest: 1, sync: false, ...gathered }));
}
