export * from './schema.js';
export * from './policy-schema.js';
export { DPOP_DEFAULTS, dpopSchema, type DpopConfig } from './dpop.js';
export { ConfigError, type ConfigIssue } from './errors.js';
export { ENV_PREFIX, applyEnvOverrides, type EnvOverride } from './env.js';
export {
  loadConfig,
  resolveConfig,
  parseConfigText,
  DEFAULT_CONFIG_FILES,
  type LoadConfigOptions,
  type LoadedConfig,
} from './load.js';
export { defaultServices, demoServerPath } from './defaults.js';
export { instanceWarnings } from './instance.js';
export { serviceRoutes, type ServiceRoute } from './routes.js';
export {
  exampleSubject,
  listProblems,
  listsSubject,
  mayUse,
  otherSubjects,
  subjectProblem,
  type OtherSubjects,
  subjectWarnings,
} from './subjects.js';
