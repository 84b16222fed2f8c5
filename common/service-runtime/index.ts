export { clusterRegistry, serveMetricsToPrimary } from './cluster-metrics.js';
export { exitWithPrimary, reportReadyToPrimary, superviseWorkers, type WorkerPool } from './cluster-workers.js';
export { type ConfigWatcher, type WatchConfigOptions, watchConfig } from './config-watch.js';
export {
  FastCounter,
  type FastCounterConfig,
  FastHistogram,
  type FastHistogramConfig,
  type HistogramValue,
} from './fast-metrics.js';
export {
  FlagError,
  type FlagSpec,
  type FlagsSpec,
  type FlagType,
  parseFlags,
  parseFlagsOrExit,
  usageText,
} from './flags.js';
export {
  GRPC_SERVER_DEFAULTS,
  type GrpcServerHandle,
  type GrpcServiceRegistration,
  type StartGrpcServerOptions,
  startGrpcServer,
} from './grpc-server.js';
export { grpcServiceDefinition } from './grpc-service.js';
export { type HealthListener, HealthState } from './health-state.js';
export {
  type HttpRoutes,
  type HttpServerHandle,
  MAX_REQUEST_BODY_BYTES,
  type StartHttpServerOptions,
  startHttpServer,
} from './http-server.js';
export {
  createLogger,
  isLogLevel,
  jsonString,
  type LogFields,
  type LogFn,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  type LogMembers,
  type MemberWriter,
} from './logger.js';
export { missingNodeFlags } from './node-flags.js';
