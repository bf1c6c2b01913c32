// The gateway's own log (pino): configuration errors, provider and health transitions — never per request.
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type Logger = PinoLogger;

export interface LogConfig {
  /** TRACE, DEBUG, INFO, WARN, ERROR, FATAL (Traefik's names, any case). */
  level?: string;
  /** `common` (one readable line) or `json`. */
  format?: 'common' | 'json';
  /** File to append to; stdout when empty. */
  filePath?: string;
}

const LEVELS: Record<string, LevelWithSilent> = {
  trace: 'trace', debug: 'debug', info: 'info', warn: 'warn', warning: 'warn',
  error: 'error', fatal: 'fatal', panic: 'fatal', silent: 'silent',
};

/** Maps a Traefik log level name to pino's; unknown names are rejected by the static schema first. */
export function pinoLevel(level: string | undefined): LevelWithSilent {
  return LEVELS[(level ?? 'info').toLowerCase()] ?? 'info';
}

export function createLogger(config: LogConfig = {}): Logger {
  const level = pinoLevel(config.level);
  const dest = config.filePath ? pino.destination({ dest: config.filePath, mkdir: true, sync: false }) : pino.destination({ fd: 1, sync: false });
  const options = { level, base: undefined, redact: { paths: ['*.password', '*.key', '*.authorization', '*.cookie'], censor: '[redacted]' } };
  if (config.format === 'json') return pino(options, dest);
  const stream = pretty({ destination: dest, colorize: false, translateTime: 'SYS:standard', ignore: 'pid,hostname', singleLine: true });
  return pino(options, stream);
}

/** A logger that drops everything, for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
