import { describe, expect, it } from 'vitest';
import { protoDuration } from '../emit/durations.js';
import { durationMs, parseRate } from './units.js';

describe('durations and rates', () => {
  it('parses durations', () => {
    expect(durationMs('250ms')).toBe(250);
    expect(durationMs('5s')).toBe(5000);
    expect(durationMs('1m30s')).toBe(90_000);
    expect(durationMs('1.5h')).toBe(5_400_000);
    expect(durationMs('0s')).toBe(0);
  });
  it('writes protobuf JSON durations', () => {
    expect(protoDuration(5000)).toBe('5s');
    expect(protoDuration(250)).toBe('0.250s');
    expect(protoDuration(0)).toBe('0s');
  });
  it('parses rates', () => {
    expect(parseRate('10/minute')).toEqual({ amount: 10, unit: 'minute' });
    expect(parseRate('2000 / day')).toEqual({ amount: 2000, unit: 'day' });
  });
});
