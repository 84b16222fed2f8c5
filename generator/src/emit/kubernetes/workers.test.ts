import { describe, expect, it } from 'vitest';
import { cpuCores, workersArgs, workersFor } from './workers.js';

describe('workers per pod', () => {
  it('one per whole core of the CPU request, at most 16', () => {
    expect(cpuCores('250m')).toBe(0.25);
    expect(cpuCores('1.5')).toBe(1.5);
    expect(['250m', '999m', '1', '1500m', '2', '2.9', '64'].map(workersFor)).toEqual([1, 1, 1, 1, 2, 2, 16]);
    expect(workersArgs('500m')).toEqual([]);
    expect(workersArgs('3')).toEqual(['--workers', '3']);
    expect(() => cpuCores('two')).toThrow(/not a CPU quantity/);
  });
});
