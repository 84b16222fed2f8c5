// Header mutations as Envoy applies them (source/common/http/header_mutation.cc and
// router/header_parser.cc): a list of `remove: name` / `append: HeaderValueOption`, evaluated in
// order against the map being mutated, so a later %REQ(x)% sees earlier changes.
// HeaderValueOption: the deprecated `append` bool wins when set (true → APPEND_IF_EXISTS_OR_ADD,
// false → OVERWRITE_IF_EXISTS_OR_ADD), else `append_action` (default APPEND_IF_EXISTS_OR_ADD, which
// adds one more entry). A value that formats to "" is not written unless keep_empty_value.

import type { HeaderMutation as MutationRule } from '../../../common/envoy-api/gen/envoy/config/common/mutation_rules/v3/mutation_rules_pb.js';
import {
  HeaderValueOption_HeaderAppendAction as Action,
  type HeaderValueOption,
} from '../../../common/envoy-api/gen/envoy/config/core/v3/base_pb.js';
import { SimUnsupportedError } from './bootstrap.js';
import { compileFormat, type FormatContext } from './formatter.js';
import type { HeaderMap } from './header-map.js';

export type Mutation = (headers: HeaderMap, ctx: FormatContext) => void;

export function appendActionOf(o: HeaderValueOption): Action {
  if (o.append !== undefined) return o.append ? Action.APPEND_IF_EXISTS_OR_ADD : Action.OVERWRITE_IF_EXISTS_OR_ADD;
  return o.appendAction;
}

/** Writes `value` under `key` with an append action (no formatting). */
export function writeHeader(headers: HeaderMap, key: string, value: string, action: Action): void {
  switch (action) {
    case Action.APPEND_IF_EXISTS_OR_ADD:
      headers.add(key, value);
      return;
    case Action.ADD_IF_ABSENT:
      if (!headers.has(key)) headers.add(key, value);
      return;
    case Action.OVERWRITE_IF_EXISTS:
      if (headers.has(key)) headers.set(key, value);
      return;
    case Action.OVERWRITE_IF_EXISTS_OR_ADD:
      headers.set(key, value);
      return;
    default:
      throw new SimUnsupportedError('header append_action', String(action));
  }
}

export function compileHeaderValueOption(o: HeaderValueOption, where: string): Mutation {
  const key = o.header?.key ?? '';
  if (!key) throw new SimUnsupportedError(where, 'a header_value_option without a key');
  if (o.header?.rawValue.length) throw new SimUnsupportedError(where, 'raw_value');
  const format = compileFormat(o.header?.value ?? '', `${where} header ${key}`);
  const action = appendActionOf(o);
  return (headers, ctx) => {
    const value = format(ctx);
    if (value === '' && !o.keepEmptyValue) return;
    writeHeader(headers, key, value, action);
  };
}

export function compileMutationRules(rules: MutationRule[], where: string): Mutation {
  const steps: Mutation[] = rules.map((r, i) => {
    const a = r.action;
    if (a.case === 'remove') {
      const name = a.value;
      return (headers) => headers.remove(name);
    }
    if (a.case === 'append') return compileHeaderValueOption(a.value, `${where}[${i}]`);
    throw new SimUnsupportedError(where, `header mutation ${a.case ?? '(empty)'}`);
  });
  return (headers, ctx) => {
    for (const s of steps) s(headers, ctx);
  };
}

/** A route/virtual-host header parser: remove the listed headers, then add the options. */
export function compileHeaderParser(toAdd: HeaderValueOption[], toRemove: string[], where: string): Mutation {
  const adds = toAdd.map((o) => compileHeaderValueOption(o, where));
  return (headers, ctx) => {
    for (const h of toRemove) headers.remove(h);
    for (const a of adds) a(headers, ctx);
  };
}
