// The rendered service configs as ConfigMaps, one file each, mounted as a directory (not subPath)
// so that a ConfigMap update reaches the running pods (ext-authz and the rate-limit service reload it).
import type { IConfigMap } from 'kubernetes-models/v1';
import type { GatewayModel } from '../../model/types.js';
import type { RenderedConfigs } from '../target.js';
import { metadata, objectName, type Part, partLabels } from './labels.js';

export interface MountedConfig {
  part: Part;
  configMap: string;
  /** The file name in the ConfigMap and in the mounted directory. */
  file: string;
  /** Where the directory is mounted in the container. */
  dir: string;
  content: string;
}

export function mountedConfigs(
  model: GatewayModel,
  configs: RenderedConfigs,
): Record<'envoy' | 'extAuthz' | 'ratelimit', MountedConfig> {
  return {
    envoy: {
      part: 'envoy',
      configMap: objectName(model, 'envoy', 'config'),
      file: 'envoy.yaml',
      dir: '/etc/envoy',
      content: configs.envoy,
    },
    extAuthz: {
      part: 'ext-authz',
      configMap: objectName(model, 'ext-authz', 'policy'),
      file: 'policy.yaml',
      dir: '/etc/ext-authz',
      content: configs.policy,
    },
    ratelimit: {
      part: 'ratelimit',
      configMap: objectName(model, 'ratelimit', 'config'),
      file: 'config.yaml',
      dir: '/etc/ratelimit',
      content: configs.ratelimit,
    },
  };
}

export function configMap(model: GatewayModel, c: MountedConfig): IConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(model, c.configMap, partLabels(model, c.part)),
    data: { [c.file]: c.content },
  };
}

/** Largest ConfigMap the API server stores (data and binaryData together). */
export const configMapLimitBytes = 1024 * 1024;
