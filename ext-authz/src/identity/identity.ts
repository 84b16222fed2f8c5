// Who is calling: the result of checking a credential, whatever its kind.

export interface Identity {
  kind: 'api_key' | 'jwt';
  /** Client name (API-key client, or the JWT claim mapped to client). */
  client: string;
  tenant: string;
  /** JWT scopes (empty for API keys). */
  scopes: string[];
  /** Models the identity may use ([] = any), for API-key clients. */
  models: string[];
  /** JWT provider name, for JWT identities. */
  provider?: string;
}

/** Why a credential was not accepted; never contains the credential itself. */
export class CredentialError extends Error {
  constructor(
    /** Short, safe for the client and the audit log: e.g. "token expired". */
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'CredentialError';
  }
}
