// gen init, add-route, secure: edits that keep comments and order, and never write an invalid file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyDigest } from '../../../ext-authz/src/identity/api-keys.js';
import { compileGateway } from '../compile.js';
import { parseGatewaySource } from '../config/source.js';
import { GatewayError } from '../errors.js';
import { addRouteCommand } from './add-route.js';
import { initCommand, scaffold } from './init.js';
import { secureCommand } from './secure.js';

let dir: string;
let file: string;
const said: string[] = [];
const out = (s: string) => void said.push(s);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-edit-'));
  file = path.join(dir, 'gateway.yaml');
  said.length = 0;
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('gen init', () => {
  it('writes a scaffold that builds, and will not overwrite without --force', () => {
    expect(initCommand([file], out)).toBe(0);
    expect(compileGateway(parseGatewaySource(fs.readFileSync(file, 'utf8'), file)).files.size).toBeGreaterThan(0);
    expect(initCommand([file], out)).toBe(1);
    expect(said.at(-1)).toMatch(/exists; use --force/);
    expect(initCommand([file, '--force'], out)).toBe(0);
    const key = [...said.join('\n').matchAll(/ {2}(aigw_\w+)\n/g)].at(-1)![1];
    expect(fs.readFileSync(file, 'utf8')).toBe(scaffold(keyDigest(key)));
  });
});

describe('gen add-route and gen secure', () => {
  beforeEach(() => initCommand([file], out));

  it('adds a route before another, keeping every comment and the order of the rest', () => {
    const before = fs.readFileSync(file, 'utf8');
    expect(
      addRouteCommand(
        [
          file,
          '--name',
          'health',
          '--exact',
          '/healthz',
          '--backend',
          'openai',
          '--methods',
          'get',
          '--auth',
          'anonymous',
          '--before',
          'openai',
        ],
        out,
      ),
    ).toBe(0);
    const after = fs.readFileSync(file, 'utf8');
    for (const line of before.split('\n').filter((l) => l.trim().startsWith('#'))) expect(after).toContain(line);
    expect(after).toContain(
      '  - name: health\n    match:\n      path: { exact: /healthz }\n      methods:\n        - GET\n    backend: openai\n    auth: anonymous\n  - name: openai',
    );
  });

  it('writes nothing when the edit would break the file (here: a route shadowed by an earlier one)', () => {
    const before = fs.readFileSync(file, 'utf8');
    expect(() =>
      addRouteCommand([file, '--name', 'chat', '--prefix', '/v1/chat/', '--backend', 'openai'], out),
    ).toThrow(GatewayError);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    expect(() => addRouteCommand([file, '--name', 'x', '--prefix', '/x', '--backend', 'nope'], out)).toThrow(
      /unknown backend "nope"/,
    );
  });

  it('secures a route with JWT and narrows it to tenants', () => {
    const withJwt = fs
      .readFileSync(file, 'utf8')
      .replace(
        'routes:',
        'jwt_providers:\n  - name: sso\n    issuer: https://sso.example.com\n    audiences: [gw]\n    algorithms: [RS256]\n    jwks: { url: "https://sso.example.com/jwks" }\n\nroutes:',
      );
    fs.writeFileSync(file, withJwt);
    expect(secureCommand([file, '--route', 'openai', '--jwt', 'sso', '--api-key', '--tenants', 'my-team'], out)).toBe(
      0,
    );
    expect(fs.readFileSync(file, 'utf8')).toContain('auth: { api_key: true, jwt: [ sso ], tenants: [ my-team ] }');
    expect(secureCommand([file, '--route', 'openai', '--anonymous'], out)).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toContain('    auth: anonymous');
    expect(secureCommand([file, '--route', 'openai'], out)).toBe(2);
  });
});
