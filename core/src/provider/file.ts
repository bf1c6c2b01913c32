// File provider: dynamic configuration from one YAML/JSON file or a directory of them, watched for changes.
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { decode } from '../config/decode.js';
import { dynamicSchema, problemsFromDisabled, type DynamicConfig, type ElementKind, type ElementProblem } from '../config/dynamic.js';
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
/** Sections made of named elements, by kind: an element defined in two files is an error, not a merge. */
const ELEMENT_SECTIONS: Record<string, readonly string[]> = {
  http: ['routers', 'services', 'middlewares', 'serversTransports'],
  tcp: ['routers', 'services', 'middlewares', 'serversTransports'],
  udp: ['routers', 'services'],
};

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

/** Merges one file's elements, noting in `origins` (`section.kind.name` → files) every file that defines each one. */
function mergeInto(into: DynamicConfig, from: DynamicConfig, file: string, origins: Map<string, string[]>): void {
  for (const [key, section] of Object.entries(from)) {
    const kinds = ELEMENT_SECTIONS[key];
    if (!kinds) {
      into[key] = mergeSection(into[key], section);
      continue;
    }
    const target = (into[key] ??= {}) as Record<string, Record<string, unknown> | undefined>;
    for (const kind of kinds) {
      const elements = (section as Record<string, Record<string, unknown> | undefined>)[kind];
      if (!elements) continue;
      const targetKind = (target[kind] ??= {});
      for (const [name, element] of Object.entries(elements)) {
        const files = origins.get(`${key}.${kind}.${name}`);
        if (files) files.push(file);
        else {
          origins.set(`${key}.${kind}.${name}`, [file]);
          targetKind[name] = element;
        }
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
  for (const [key, files] of origins) {
    if (files.length < 2) continue;
    const [section, kind] = key.split('.', 2) as [string, string];
    const name = key.slice(section.length + kind.length + 2);
    delete (merged[section] as Record<string, Record<string, unknown> | undefined> | undefined)?.[kind]?.[name];
    // Problems name http kinds bare (`routers`) and others with their section (`udp.routers`).
    const problemKind = (section === 'http' ? kind : `${section}.${kind}`) as ElementKind;
    problems.push({ kind: problemKind, name, messages: [`${key} is defined in ${files.length} files (${files.join(', ')}); define it once`] });
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
