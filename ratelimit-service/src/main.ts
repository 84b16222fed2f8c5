#!/usr/bin/env node
// ratelimit-service: not implemented yet (issue #3). The command exists so that `npm ci` links it.
console.error('ratelimit-service: not implemented yet (see issue #3)');
process.exitCode = 2;
