// Structured JSON logs through pino; one root, children per module (conventions §9).
// Never log API keys: the redact list removes the Authorization header wherever it appears.
import { pino, type Logger } from 'pino';

export function createLogger(level: string, module?: string): Logger {
  const root = pino({
    level,
    base: { pid: process.pid },
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'key'], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
  return module ? root.child({ module }) : root;
}
