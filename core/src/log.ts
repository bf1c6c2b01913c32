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

/** A pino destination: what pino calls on it. */
interface Destination {
  write(line: string): unknown;
  flush?(cb?: (err?: Error) => void): void;
}

/**
 * The gateway log's stream: writes each line (pino's JSON, redacted) to the file or stdout and hands it to the
 * destinations plugins added (addLogDestination), e.g. log.otlp.
 */
class LogTee implements Destination {
  readonly taps = new Set<(line: string) => void>();

  constructor(private readonly dest: Destination) {}

  write(line: string): void {
    this.dest.write(line);
    for (const tap of this.taps) tap(line);
  }

  flush(cb?: (err?: Error) => void): void {
    if (this.dest.flush) this.dest.flush(cb);
    else cb?.();
  }
}

export function createLogger(config: LogConfig = {}): Logger {
  const level = pinoLevel(config.level);
  const dest = config.filePath ? pino.destination({ dest: config.filePath, mkdir: true, sync: false }) : pino.destination({ fd: 1, sync: false });
  const options = { level, base: undefined, redact: { paths: ['*.password', '*.key', '*.authorization', '*.cookie'], censor: '[redacted]' } };
  if (config.format === 'json') return pino(options, new LogTee(dest));
  const stream = pretty({ destination: dest, colorize: false, translateTime: 'SYS:standard', ignore: 'pid,hostname', singleLine: true });
  return pino(options, new LogTee(stream));
}

/**
 * Adds a destination to a logger made by createLogger (or a child of it, such as a plugin's `host.log`): `write`
 * gets every line the logger writes, as pino's JSON text (redacted, newline-terminated), after the file or stdout
 * has it. It must not throw nor block. Returns the function that removes it, or undefined for another logger
 * (silentLogger, or one the embedding application made).
 */
export function addLogDestination(log: Logger, write: (line: string) => void): (() => void) | undefined {
  const stream = (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  if (!(stream instanceof LogTee)) return undefined;
  stream.taps.add(write);
  return () => stream.taps.delete(write);
}

/** A logger that drops everything, for tests and embedding. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
