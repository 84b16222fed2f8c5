import { describe, expect, it } from 'vitest';
import { HealthState } from './health-state.js';

describe('HealthState', () => {
  it('starts not serving overall, with a reason', () => {
    const h = new HealthState();
    expect(h.isServing()).toBe(false);
    expect(h.isServing('')).toBe(false);
    expect(h.reason()).toBe('starting');
    expect(h.services()).toEqual(['']);
  });

  it('sets the overall and named states; a named service also needs the overall one', () => {
    const h = new HealthState({ 'a.Service': true });
    expect(h.isServing('a.Service')).toBe(false); // overall not serving yet
    h.setServing('', true);
    expect(h.isServing('')).toBe(true);
    expect(h.isServing('a.Service')).toBe(true);
    expect(h.reason('a.Service')).toBeUndefined();
    h.setServing('a.Service', false, 'backend down');
    expect(h.isServing('a.Service')).toBe(false);
    expect(h.reason('a.Service')).toBe('backend down');
    expect(h.isServing('')).toBe(true);
    expect(h.isServing('unknown.Service')).toBe(false);
    expect(h.reason('unknown.Service')).toBe('unknown service');
    expect(h.has('a.Service')).toBe(true);
    expect(h.has('unknown.Service')).toBe(false);
    h.setServing('', false, 'draining');
    expect(h.reason('a.Service')).toBe('draining');
    expect(h.reason('')).toBe('draining');
  });

  it('tells listeners about changes only, and stops after unsubscribe', () => {
    const h = new HealthState();
    const events: [string, boolean][] = [];
    const off = h.onChange((service, serving) => events.push([service, serving]));
    h.setServing('', true);
    h.setServing('', true); // no change
    h.setServing('x', false); // new service: announced
    h.setServing('x', true);
    off();
    h.setServing('', false);
    expect(events).toEqual([
      ['', true],
      ['x', false],
      ['x', true],
    ]);
  });

  it('keeps notifying the other listeners when one throws', () => {
    const h = new HealthState();
    let calls = 0;
    h.onChange(() => {
      throw new Error('broken listener');
    });
    h.onChange(() => {
      calls++;
    });
    expect(() => h.setServing('', true)).not.toThrow();
    expect(calls).toBe(1);
  });
});
