// Type aliases over kubernetes-models' interfaces for the pieces the emitters build. Types only:
// the emitters build plain objects (keys in the order written), validate/kubernetes.ts checks them.
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IContainer, IPodSpec, IVolume, IVolumeMount } from 'kubernetes-models/v1';

export type ObjectMeta = NonNullable<IDeployment['metadata']>;
export type Container = IContainer;
export type PodSpec = IPodSpec;
export type Volume = IVolume;
export type VolumeMount = IVolumeMount;
