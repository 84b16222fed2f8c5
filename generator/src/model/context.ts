// What the model builders share: the source (for positions) and the problems found so far.

import { diagnosticAt, type GatewaySource, type PathSegment } from '../config/source.js';
import type { Diagnostic } from '../errors.js';

export class BuildContext {
  readonly problems: Diagnostic[] = [];

  constructor(readonly src: GatewaySource) {}

  error(path: readonly PathSegment[], message: string, key = false): void {
    this.problems.push(diagnosticAt(this.src, path, message, key));
  }

  line(path: readonly PathSegment[]): number {
    return diagnosticAt(this.src, path, '').line ?? 0;
  }

  /** Reports every name that appears twice in a list of named items. */
  uniqueNames(list: { name: string }[] | undefined, field: string): void {
    const first = new Map<string, number>();
    (list ?? []).forEach((item, i) => {
      const prev = first.get(item.name);
      if (prev === undefined) first.set(item.name, i);
      else
        this.error(
          [field, i, 'name'],
          `${field}[${i}].name: duplicate name "${item.name}" (first used at line ${this.line([field, prev, 'name'])})`,
        );
    });
  }

  /** Exactly one of `keys` must be set on the object at `path`. */
  exactlyOne(
    obj: Record<string, unknown>,
    keys: string[],
    path: readonly PathSegment[],
    where: string,
  ): string | undefined {
    const set = keys.filter((k) => obj[k] !== undefined);
    if (set.length === 1) return set[0];
    this.error(
      path,
      `${where}: set exactly one of ${keys.join(', ')}${set.length ? ` (found ${set.join(' and ')})` : ''}`,
    );
    return undefined;
  }
}
