/**
 * Log options: pino through Fastify, with keys and secrets redacted wherever they might appear.
 */
import type { LogLevel } from '../config/config.ts';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  '*.secret',
  '*.token',
  '*.password',
  '*.clientSecret',
  '*.adminKey',
];

export function loggerOptions(level: LogLevel) {
  return { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
}
