// File provider: dynamic configuration from one YAML/JSON file or a directory of them, watched for changes.
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { decode } from '../config/decode.js';
import { dynamicSchema, problemsFromDisabled, type DynamicConfig, type ElementKind, type ElementProblem, type HTTPConfig } from '../config/dynamic.js';
import { parseConfigText } from '../config/static.js';
import { WharfError, messageOf } from '../errors.js';
import type { Provider, ProviderContext } from './provider.js';

export interface FileProviderConfig {
  filename?: string;
  directory?: string;
  watch: boolean;
}

const EXTENSIONS = new Set(['.yml', '.yaml', '.json']);
// Quiet time after the last change before the files are read: an editor's save is several writes.
const SETTLE_MS = 50;
const KINDS = ['routers', 'services', 'middlewares', 'serversTransports'] as const;

export class FileProvider implements Provider {
  readonly name = 'file';
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;

  constructor(private readonly config: FileProviderConfig) {
    if (!config.filename && !config.directory) {
      throw new WharfError('WHARF_ERR_STATIC_CONFIG', 'providers.file needs filename or directory (--providers.file.filename=dynamic.yml)');
    }
  }

  async start(context: ProviderContext): Promise<void> {
    await this.load(context);
    if (!this.config.watch) return;
    this.watch(context);
    // A change written before the watcher was ready raised no event: read once more (unchanged snapshots are skipped).
    await this.load(context);
  }

  async stop(): Promise<void> {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.watcher?.close();
  }

  /** Reads every file; a syntax error anywhere keeps the last good configuration of this provider. */
  private async load(context: ProviderContext): Promise<void> {
    try {
      const files = await this.files();
      const merged: DynamicConfig = {};
      const problems: ElementProblem[] = [];
      const origins = new Map<string, string[]>();
      for (const file of files) {
        const text = await readFile(file, 'utf8');
        const raw = parseConfigText(text, file);
        const { value, issues, disabled } = decode<DynamicConfig>(dynamicSchema(context.registry), raw, {
          describe: (w) => `${file}: ${w.join('.').replace(/\.\[/g, '[')}`,
        });
        if (issues.length > 0) throw new WharfError('WHARF_ERR_DYNAMIC_CONFIG', issues.map((i) => `${i.source}: ${i.message}`).join('; '));
        problems.push(...problemsFromDisabled(disabled));
        mergeInto(merged, value ?? {}, file, origins);
      }
      problems.push(...dropDuplicates(merged, origins));
      context.emit({ provider: this.name, config: merged, problems });
    } catch (err) {
      context.log.error({ provider: this.name }, `file provider: ${messageOf(err)}; keeping the last good configuration`);
    }
  }

  private async files(): Promise<string[]> {
    if (this.config.filename) return [resolve(this.config.filename)];
    const dir = resolve(this.config.directory!);
    const names = (await readdir(dir)).filter(isConfigFile).sort();
    return names.map((n) => join(dir, n));
  }

  /**
   * One inotify-style watch on the containing directory (Node's fs.watch), with events filtered by file name:
   * editors' rename-replace saves and a directory provider's new files are seen, and a file written next to
   * the configuration (an access log) costs a name comparison per write. chokidar, used before, re-read and
   * stat()ed the whole directory on every such write and polled the file every 10 ms while it kept changing.
   * Reloads wait until the files were quiet for SETTLE_MS, as chokidar's awaitWriteFinish did.
   */
  private watch(context: ProviderContext): void {
    const target = this.config.filename ? resolve(this.config.filename) : resolve(this.config.directory!);
    const dir = this.config.filename ? dirname(target) : target;
    const wanted = this.config.filename ? basename(target) : undefined;
    const relevant = (name: string | null) => name === null || (wanted === undefined ? isConfigFile(name) : name === wanted);
    const onEvent = (_event: string, name: string | Buffer | null) => {
      if (!relevant(name === null ? null : String(name))) return;
      if (this.reloadTimer) clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => void this.load(context), SETTLE_MS);
    };
    const watcher = fsWatch(dir, { persistent: true }, onEvent);
    watcher.on('error', (err) => context.log.error({ provider: this.name }, `file provider: watching ${dir} failed: ${messageOf(err)}`));
    this.watcher = watcher;
  }
}

/** A file a directory provider reads: a YAML or JSON file, not hidden. */
function isConfigFile(path: string): boolean {
  return EXTENSIONS.has(extname(path)) && !basename(path).startsWith('.');
}

/** Merges one file's elements, noting in `origins` (`kind.name` → files) every file that defines each one. */
function mergeInto(into: DynamicConfig, from: DynamicConfig, file: string, origins: Map<string, string[]>): void {
  for (const [key, section] of Object.entries(from)) if (key !== 'http') into[key] = mergeSection(into[key], section);
  if (!from.http) return;
  const http = (into.http ??= {}) as Record<ElementKind, Record<string, unknown> | undefined>;
  for (const kind of KINDS) {
    const elements = (from.http as HTTPConfig)[kind] as Record<string, unknown> | undefined;
    if (!elements) continue;
    const target = (http[kind] ??= {});
    for (const [name, element] of Object.entries(elements)) {
      const files = origins.get(`${kind}.${name}`);
      if (files) files.push(file);
      else {
        origins.set(`${kind}.${name}`, [file]);
        target[name] = element;
      }
    }
  }
}

/**
 * An element defined in several files is left out, with an error naming every file (as Traefik does):
 * keeping one would make the outcome depend on file order.
 */
function dropDuplicates(merged: DynamicConfig, origins: Map<string, string[]>): ElementProblem[] {
  const problems: ElementProblem[] = [];
  const http = merged.http as Record<ElementKind, Record<string, unknown> | undefined> | undefined;
  for (const [key, files] of origins) {
    if (files.length < 2) continue;
    const dot = key.indexOf('.');
    const kind = key.slice(0, dot) as ElementKind;
    const name = key.slice(dot + 1);
    delete http?.[kind]?.[name];
    problems.push({ kind, name, messages: [`http.${kind}.${name} is defined in ${files.length} files (${files.join(', ')}); define it once`] });
  }
  return problems;
}

/** Plugin-owned sections (`tls`) from several files: lists are concatenated, maps merged, the later scalar wins. */
function mergeSection(into: unknown, from: unknown): unknown {
  if (Array.isArray(into) && Array.isArray(from)) return [...into, ...from];
  if (isPlainObject(into) && isPlainObject(from)) {
    const out: Record<string, unknown> = { ...into };
    for (const [key, value] of Object.entries(from)) out[key] = key in out ? mergeSection(out[key], value) : value;
    return out;
  }
  return from;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
