import { describe, expect, it } from 'vitest';
import { missingNodeFlags } from './node-flags.js';

describe('missingNodeFlags', () => {
  const wanted = ['--max-semi-space-size=32', '--stack-size=2000'];

  it('names the flags given neither on the command line nor in NODE_OPTIONS', () => {
    expect(missingNodeFlags(wanted, [], '')).toEqual(wanted);
    expect(missingNodeFlags(wanted, ['--max-semi-space-size=32'], '')).toEqual(['--stack-size=2000']);
    expect(missingNodeFlags(wanted, [], '--stack-size=900 --max-semi-space-size=8')).toEqual([]);
  });

  it('takes a flag by its name, whatever its value and its spelling with _ or -', () => {
    expect(missingNodeFlags(wanted, ['--max_semi_space_size=64', '--stack_size=1'], '')).toEqual([]);
    expect(missingNodeFlags(wanted, ['--max-old-space-size=32'], '')).toEqual(wanted);
  });
});
