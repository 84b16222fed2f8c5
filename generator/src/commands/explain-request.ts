// The request that `gen explain` reasons about, from one line such as
//   POST /v1/chat/completions model=gpt-4o key=aigw_… host=llm.example.internal header:x-team=support
//   ip=10.1.2.3 body:agent_type=research personal-data tokens=1200

export interface ExplainRequest {
  method: string;
  /** Path with query, as the client sends it. */
  path: string;
  host?: string;
  /** Name a listener directly (when several serve the same host). */
  listener?: string;
  /** Lower-case header name → value (repeated headers joined with "," as Envoy does). */
  headers: Map<string, string>;
  ip?: string;
  /** Top-level JSON body fields that the request carries (`model=` is `body:model=`). */
  body: Record<string, string>;
  /** False with `no-body`: the request has no body at all. */
  hasBody: boolean;
  /** Set with `personal-data`; the detector names with `personal-data=email,card`. */
  personalData?: string[];
  /** API key (`key=`). */
  key?: string;
  /** `jwt` alone: some JWT; `jwt=TOKEN`: that token (its claims are read, never verified). */
  jwt?: { token?: string };
  /** ext-authz's token estimate for this request, when given (`tokens=N`). */
  tokens?: number;
}

export class RequestSyntaxError extends Error {}

export const requestSyntax = `METHOD PATH [model=M] [key=KEY | jwt[=TOKEN]] [host=H] [listener=NAME] [ip=A]
             [header:NAME=VALUE]… [body:FIELD=VALUE]… [personal-data[=KIND,…]] [tokens=N] [no-body]`;

/** Splits on blanks; "double quotes" keep blanks inside a word (`header:x-note="a b"`). */
function words(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '\\' && i + 1 < line.length && (line[i + 1] === '"' || line[i + 1] === '\\')) cur += line[++i];
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') {
      quoted = true;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quoted) throw new RequestSyntaxError('unterminated " in the request');
  if (inWord) out.push(cur);
  return out;
}

function splitOnce(word: string, sep: string): [string, string | undefined] {
  const i = word.indexOf(sep);
  return i < 0 ? [word, undefined] : [word.slice(0, i), word.slice(i + sep.length)];
}

export function parseRequestLine(line: string): ExplainRequest {
  const w = words(line);
  if (w.length < 2) throw new RequestSyntaxError(`the request needs at least a method and a path: ${requestSyntax}`);
  const [method, path, ...rest] = w;
  if (!/^[A-Za-z]+$/.test(method)) throw new RequestSyntaxError(`"${method}" is not an HTTP method`);
  if (!path.startsWith('/')) throw new RequestSyntaxError(`the path must start with "/", not "${path}"`);
  const req: ExplainRequest = { method, path, headers: new Map(), body: {}, hasBody: true };
  let noBody = false;
  const once = new Set<string>();
  const single = (k: string) => {
    if (once.has(k)) throw new RequestSyntaxError(`${k}= is given twice`);
    once.add(k);
  };
  for (const word of rest) {
    const [k, v] = splitOnce(word, '=');
    if (k.startsWith('header:') || k.startsWith('body:')) {
      const [kind, name] = splitOnce(k, ':');
      if (!name || v === undefined) throw new RequestSyntaxError(`"${word}": write ${kind}:NAME=VALUE`);
      if (kind === 'header') {
        const h = name.toLowerCase();
        if (h.startsWith(':') || h === 'host')
          throw new RequestSyntaxError(`"${word}": use host= for the host, and METHOD PATH for the others`);
        const prev = req.headers.get(h);
        req.headers.set(h, prev === undefined ? v : `${prev},${v}`);
      } else {
        if (Object.hasOwn(req.body, name)) throw new RequestSyntaxError(`body field "${name}" is given twice`);
        req.body[name] = v;
      }
      continue;
    }
    switch (k) {
      case 'model':
        if (v === undefined) throw new RequestSyntaxError('write model=NAME');
        if (Object.hasOwn(req.body, 'model')) throw new RequestSyntaxError('body field "model" is given twice');
        req.body.model = v;
        break;
      case 'key':
      case 'host':
      case 'ip':
      case 'listener':
        if (!v) throw new RequestSyntaxError(`write ${k}=VALUE`);
        single(k);
        req[k] = v;
        break;
      case 'jwt':
        single(k);
        req.jwt = v ? { token: v } : {};
        break;
      case 'tokens':
        single(k);
        if (!v || !/^\d+$/.test(v)) throw new RequestSyntaxError(`tokens= needs a whole number, not "${v ?? ''}"`);
        req.tokens = Number(v);
        break;
      case 'personal-data':
        single(k);
        req.personalData = v ? v.split(',').filter(Boolean) : [];
        break;
      case 'no-body':
        if (v !== undefined) throw new RequestSyntaxError('no-body takes no value');
        noBody = true;
        break;
      default:
        throw new RequestSyntaxError(`unknown request part "${word}" (expected ${requestSyntax})`);
    }
  }
  if (noBody) {
    if (Object.keys(req.body).length || req.personalData)
      throw new RequestSyntaxError('no-body contradicts model=, body: and personal-data');
    req.hasBody = false;
  } else {
    // A request carries a JSON body when it says what is in it, or when its method sends one.
    req.hasBody =
      Object.keys(req.body).length > 0 ||
      req.personalData !== undefined ||
      ['POST', 'PUT', 'PATCH'].includes(method.toUpperCase());
  }
  return req;
}
