#!/usr/bin/env node
// ext-authz: not implemented yet (issue #4). The command exists so that `npm ci` links it.
console.error('ext-authz: not implemented yet (see issue #4)');
process.exitCode = 2;
