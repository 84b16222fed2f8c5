import { describe, expect, it } from 'vitest';
import {
  createLogger,
  FlagError,
  grpcServiceDefinition,
  HealthState,
  parseFlags,
  startGrpcServer,
  startHttpServer,
  usageText,
  watchConfig,
} from './index.js';

describe('service-runtime index', () => {
  it('re-exports the runtime', () => {
    const exported = {
      grpcServiceDefinition,
      startGrpcServer,
      HealthState,
      startHttpServer,
      createLogger,
      watchConfig,
      parseFlags,
      usageText,
      FlagError,
    };
    for (const [name, value] of Object.entries(exported)) {
      expect(typeof value, name).toBe('function');
    }
  });
});
