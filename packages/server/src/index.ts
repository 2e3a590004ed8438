export { type BuildAppOptions, buildApp, redactedLogPaths } from "./app.ts";
export { rotateSigningKeysAudited } from "./authorization-tokens/rotate.ts";
export { bootstrap } from "./bootstrap.ts";
export { devTlsPaths, ensureDevCa, ensureServerTls } from "./certificates/dev-tls.ts";
export {
  exportPrivateKeyPem,
  generateRsaKeyPair,
  importRsaPrivateKeyPem,
  issueCertificate,
  validFor,
} from "./certificates/generate.ts";
export { type Clock, systemClock, type TimerHandle } from "./clock.ts";
export { type Config, ConfigError, loadConfig, settings } from "./config/config.ts";
export type { AppContext } from "./context.ts";
export { buildMtlsApp } from "./mtls-app.ts";
export { type RunningServer, serve } from "./serve.ts";
export { openStorage } from "./storage/open-storage.ts";
