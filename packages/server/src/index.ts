export { type BuildAppOptions, buildApp, redactedLogPaths } from "./app.ts";
export { bootstrap } from "./bootstrap.ts";
export { type Clock, systemClock } from "./clock.ts";
export { type Config, ConfigError, loadConfig, settings } from "./config/config.ts";
export type { AppContext } from "./context.ts";
export { type RunningServer, serve } from "./serve.ts";
export { openStorage } from "./storage/open-storage.ts";
