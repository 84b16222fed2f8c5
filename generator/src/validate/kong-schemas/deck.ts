// The part of decK's declarative format (`_format_version: "3.0"`) the Kong emitter writes:
// services with nested routes and route plugins, consumers with ACL groups, global plugins.
// Plugin `config` is checked per plugin (plugins.ts).
import type { SchemaObject } from 'ajv';
import { bool, closed, str, strings, timeoutMs } from './common.js';

const plugin = closed({ name: str, config: { type: 'object' } }, ['name']);

const route = closed(
  {
    name: str,
    paths: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^(/|~)' } },
    methods: { type: 'array', items: { type: 'string', pattern: '^[A-Z]+$' } },
    hosts: strings,
    headers: { type: 'object', additionalProperties: { type: 'array', minItems: 1, items: str } },
    strip_path: bool,
    preserve_host: bool,
    regex_priority: { type: 'integer' },
    response_buffering: bool,
    plugins: { type: 'array', items: plugin },
  },
  ['name', 'paths'],
);

const service = closed(
  {
    name: str,
    url: { type: 'string', pattern: '^https?://[^/\\s]+$' },
    connect_timeout: timeoutMs,
    read_timeout: timeoutMs,
    write_timeout: timeoutMs,
    routes: { type: 'array', items: route },
  },
  ['name', 'url'],
);

const consumer = closed({ username: str, acls: { type: 'array', items: closed({ group: str }, ['group']) } }, [
  'username',
]);

export const deckSchema: SchemaObject = closed(
  {
    _format_version: { const: '3.0' },
    _info: closed({ select_tags: strings }),
    services: { type: 'array', items: service },
    consumers: { type: 'array', items: consumer },
    plugins: { type: 'array', items: plugin },
  },
  ['_format_version'],
);
