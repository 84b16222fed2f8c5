import { describe, expect, it } from 'vitest';
import { withPassword } from './worker.js';

describe('withPassword', () => {
  it('adds a password or user:password to a URL without one', () => {
    expect(withPassword('redis://redis:6379', 's3cr/t')).toBe('redis://:s3cr%2Ft@redis:6379');
    expect(withPassword('redis://redis:6379', 'app:pw')).toBe('redis://app:pw@redis:6379');
    expect(withPassword('rediss://r:6380/2', 'pw')).toBe('rediss://:pw@r:6380/2');
  });
  it('keeps a URL that has its own password, and a URL when no password is given', () => {
    expect(withPassword('redis://:inline@redis:6379', 'other')).toBe('redis://:inline@redis:6379');
    expect(withPassword('redis://redis:6379', '')).toBe('redis://redis:6379');
  });
});
