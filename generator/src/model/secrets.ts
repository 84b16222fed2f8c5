import type { PathSegment } from '../config/source.js';
import type { BuildContext } from './context.js';
import type { RawSecretRef } from './raw.js';
import type { SecretSource } from './types.js';

export function secretSource(
  ctx: BuildContext,
  ref: RawSecretRef,
  path: PathSegment[],
  where: string,
): SecretSource | undefined {
  const which = ctx.exactlyOne(ref as Record<string, unknown>, ['secret', 'file', 'env'], path, where);
  if (which === 'secret' && ref.secret) return { kind: 'secret', name: ref.secret.name, key: ref.secret.key };
  if (which === 'file' && ref.file) return { kind: 'file', path: ref.file };
  if (which === 'env' && ref.env) return { kind: 'env', name: ref.env };
  return undefined;
}
