// The JWT provider settings ext-authz reads from policy.yaml (written by `gen build`).
export interface JwtProviderConfig {
  name: string;
  issuer: string;
  audiences: string[];
  /** Pinned: a token signed with any other algorithm is rejected (never "none", never HMAC). */
  algorithms: string[];
  jwks: { url?: string; file?: string; cache_seconds: number };
  claims: { client: string; tenant: string; scopes: string };
  clock_skew_seconds: number;
}
