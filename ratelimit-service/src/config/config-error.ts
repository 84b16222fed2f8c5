/** A config problem, worded as envoyproxy/ratelimit words it: `<file>: <message>`. */
export class RateLimitConfigError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'RateLimitConfigError';
  }
}
