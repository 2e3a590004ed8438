export { type FetchAuthenticator, tesseraFetch } from "./authenticated-fetch.ts";
export { type ClientClock, sleep, systemClock } from "./clock.ts";
export {
  DatafeedLoop,
  type DatafeedLoopEvents,
  type DatafeedLoopOptions,
  type V4Event,
} from "./datafeed-loop.ts";
export { TypedEmitter } from "./emitter.ts";
export {
  AccountLocked,
  type ClientErrorCode,
  errorFromResponse,
  Forbidden,
  InvalidCredentials,
  InvalidToken,
  isTransient,
  NoActiveOrg,
  networkError,
  OrgAccessDenied,
  PasswordExpired,
  RateLimited,
  SelectedOrgRequired,
  ServerUnavailable,
  TesseraClientError,
  type TesseraClientErrorOptions,
  type TesseraErrorCode,
} from "./errors.ts";
export { createPubkeyJwt } from "./pubkey-jwt.ts";
export { backoffDelay, defaultRetryPolicy, type RetryContext, type RetryPolicy, retryTransient } from "./retry.ts";
export {
  type CertificateCredentials,
  type KeyPairCredentials,
  ServiceSession,
  type ServiceSessionEvents,
  type ServiceSessionOptions,
} from "./service-session.ts";
export {
  type ApiKeyOptions,
  type ExistingTokenOptions,
  type PasswordLoginOptions,
  type RenewalOptions,
  UserSession,
  type UserSessionEvents,
  type UserSessionOptions,
} from "./user-session.ts";
