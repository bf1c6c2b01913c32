#!/usr/bin/env node
// Copies what the `wharf` command needs at run time into <out>/opt/wharf, read from package-lock.json: the
// workspace packages it depends on (package.json and what its `files` publish, without tests, maps or typings) and the
// third-party packages of its production dependency closure, resolved as Node resolves them. No npm needed, so
// the image's build stage runs on a base image that ships only node. Usage: node stage.js <repo> <out>
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';

const [repo, out] = process.argv.slice(2);
if (!repo || !out) {
  console.error('usage: node stage.js <repository root> <output directory>');
  process.exit(2);
}
const APP = join(out, 'opt/wharf');
const packages = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')).packages;

/** Lock locations Node would try for `name` required from the package at `from`, nearest first. */
function candidates(from, name) {
  const found = [];
  let dir = from;
  for (;;) {
    found.push(dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`);
    if (!dir) return found;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut >= 0 ? dir.slice(0, cut) : dir.includes('/') ? dir.slice(0, dir.lastIndexOf('/')) : '';
  }
}

/** Walks production dependencies from the `wharf` workspace: lock locations of packages and of workspace links. */
function closure() {
  const seen = new Set();
  const links = new Map();
  const visit = (location) => {
    if (seen.has(location)) return;
    seen.add(location);
    const entry = packages[location];
    const required = { ...entry.peerDependencies, ...entry.dependencies };
    const optional = new Set([...Object.keys(entry.optionalDependencies ?? {}), ...Object.keys(entry.peerDependenciesMeta ?? {}).filter((n) => entry.peerDependenciesMeta[n].optional)]);
    for (const name of new Set([...Object.keys(required), ...optional])) {
      const at = candidates(location, name).find((c) => packages[c]);
      if (!at) {
        if (optional.has(name)) continue;
        throw new Error(`${location || 'the root'} needs ${name}, which package-lock.json does not have: run npm install`);
      }
      if (packages[at].link) {
        links.set(at, packages[at].resolved);
        visit(packages[at].resolved);
      } else visit(at);
    }
  };
  visit('wharf');
  return { locations: [...seen], links };
}

const isWorkspace = (location) => !location.split('/').includes('node_modules');

/** What `files` publishes, minus the tests, maps and typings nothing loads at run time. */
function keepWorkspaceFile(path) {
  return !/\.test\.[cm]?js$|\.map$|\.d\.[cm]?ts$|\.tsbuildinfo$/.test(path);
}

/** The paths a `files` entry names: a path, or `dir/*.ext` (the only glob form the workspaces use). */
function filesEntry(root, entry) {
  if (!entry.includes('*')) return existsSync(join(root, entry)) ? [entry] : [];
  const dir = dirname(entry);
  if (dir.includes('*')) throw new Error(`files entry ${entry}: only a * in the last part is supported here`);
  const pattern = new RegExp(`^${basename(entry).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return existsSync(join(root, dir)) ? readdirSync(join(root, dir)).filter((n) => pattern.test(n)).map((n) => join(dir, n)) : [];
}

function copyWorkspace(location) {
  const from = join(repo, location);
  const to = join(APP, location);
  const manifest = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8'));
  mkdirSync(to, { recursive: true });
  cpSync(join(from, 'package.json'), join(to, 'package.json'));
  const entries = (manifest.files ?? ['dist']).filter((e) => !e.startsWith('!'));
  for (const path of entries.flatMap((e) => filesEntry(from, e.replace(/\/$/, '')))) {
    cpSync(join(from, path), join(to, path), { recursive: true, filter: keepWorkspaceFile });
  }
}

function copyPackage(location) {
  // A package's own nested node_modules are lock entries of their own, copied only if the walk reached them.
  const nested = join(repo, location, 'node_modules');
  cpSync(join(repo, location), join(APP, location), { recursive: true, filter: (p) => p !== nested });
}

const { locations, links } = closure();
for (const location of locations) (isWorkspace(location) ? copyWorkspace : copyPackage)(location);
for (const [link, target] of links) {
  mkdirSync(dirname(join(APP, link)), { recursive: true });
  symlinkSync(relative(dirname(join(APP, link)), join(APP, target)), join(APP, link));
}
cpSync(join(repo, 'package.json'), join(APP, 'package.json'));
mkdirSync(join(out, 'usr/local/bin'), { recursive: true });
symlinkSync('/opt/wharf/wharf/bin/wharf.js', join(out, 'usr/local/bin/wharf'));
console.log(`staged ${locations.filter(isWorkspace).length} workspace packages and ${locations.filter((l) => !isWorkspace(l)).length} dependencies in ${APP}`);
