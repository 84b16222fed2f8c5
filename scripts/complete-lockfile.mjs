#!/usr/bin/env node
// The npm registry mirror on our machines serves only the Linux builds of packages that ship one
// optional package per platform (biome, esbuild, rollup, buf, …). npm then leaves the others out
// of package-lock.json, and `npm ci` refuses a lock file that lacks them. This adds a stub entry
// (optional, with the platform guessed from the name so npm skips it elsewhere) for every optional
// dependency missing from the lock. Run after `npm install`: node scripts/complete-lockfile.mjs
import fs from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const packages = lock.packages;
const osNames = ['android', 'darwin', 'freebsd', 'linux', 'netbsd', 'openbsd', 'sunos', 'win32', 'aix', 'openharmony'];
const cpuNames = ['arm64', 'x64', 'ia32', 'arm', 'riscv64', 'ppc64', 's390x', 'loong64', 'mips64el', 'armv7'];
let added = 0;
for (const [where, pkg] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const base = where ? `${where}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[base] || packages[`node_modules/${name}`]) continue;
    const parts = name.split(/[/-]/);
    const os = osNames.find((o) => parts.includes(o) || (o === 'win32' && parts.includes('windows')));
    const cpu = cpuNames.find((c) => parts.includes(c)) ?? (parts.includes('armv7') ? 'arm' : undefined);
    const entry = { version: String(version).replace(/^[\^~]/, ''), optional: true };
    if (pkg.dev) entry.dev = true;
    if (os) entry.os = [os === 'win32' ? 'win32' : os];
    if (cpu) entry.cpu = [cpu === 'armv7' ? 'arm' : cpu];
    packages[`node_modules/${name}`] = entry;
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} optional platform entries`);
