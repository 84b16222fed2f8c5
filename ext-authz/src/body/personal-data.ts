// Personal data in a request body (gateway.yaml `personal_data`): e-mail addresses, phone numbers,
// payment card numbers and operator-defined patterns. Routes with `match.personal_data` keep such
// requests in the cluster, so a miss leaks data and a false positive only costs a local model:
// the detectors lean towards matching, but not on the numbers every prompt is full of (ids, dates,
// timestamps, prices, versions, IP addresses).
//
// Linear time. The built-in e-mail regex anchors at the start of a run of local-part characters
// (a lookbehind) and bounds every quantifier, so each start does bounded work. Phone and card
// numbers are found by a regex that only locates where a number starts (constant work per
// position) and a scanner that reads each number once. Custom patterns are the operator's
// responsibility; every string is cut to its first MAX_SCAN_CHARS before any regex sees it.

export type BuiltInDetector = 'email' | 'phone' | 'card';

export interface PersonalDataConfig {
  detect: BuiltInDetector[];
  patterns: { name: string; regex: string }[];
}

export interface PersonalDataDetector {
  /** Every name this detector can report, in the order results are given. */
  readonly names: readonly string[];
  /** Names of what `text` contains: each once, in `names` order (built-ins as listed in `detect`, then patterns). */
  detect(text: string): string[];
  /** The same over every string value and every key of a JSON value (see MAX_WALK_* limits). */
  detectInBody(body: Record<string, unknown>): string[];
}

/** Only the first MAX_SCAN_CHARS UTF-16 units of each string are scanned. */
export const MAX_SCAN_CHARS = 1 << 20;
/** detectInBody walks at most this many nested levels (parseJsonBody already allows no more than 64). */
export const MAX_WALK_DEPTH = 64;
/** detectInBody visits at most this many values and scans at most MAX_WALK_CHARS in all. */
export const MAX_WALK_NODES = 1_000_000;
export const MAX_WALK_CHARS = 16 * MAX_SCAN_CHARS;

const BUILT_IN: readonly BuiltInDetector[] = ['email', 'phone', 'card'];

/**
 * E-mail, pragmatically: ASCII local part of 1–64 characters from [A-Za-z0-9._%+-], then a domain
 * of 1–9 labels (1–63 characters, no leading or trailing hyphen) and a 2–24 letter TLD. Quoted
 * local parts, IP literals and internationalised addresses are not recognised.
 */
const EMAIL =
  /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}([A-Za-z]{2,24})/g;
/** "icon@2x.png" is an asset name, not an address. */
const FILE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'ico', 'bmp', 'avif']);

/**
 * Where a number may start: an optional "+" or "(", a digit, and at least 7 more digits ahead, each
 * after at most two separator characters (fewer cannot make a phone or a card). Separators: space
 * (also no-break, thin and narrow no-break space), dash (also Unicode hyphens and en dash), dot,
 * parentheses. Without "+", a
 * separator within the first 8 digits or a run of 13+ digits: a plain 8–12 digit run (id,
 * timestamp) is neither a phone nor a card. Not after a letter, digit, currency sign or one of
 * _ + - . , / # @, so digits inside ids, UUIDs, decimals, paths and amounts do not start a number.
 * Every lookaround is bounded: constant work per position.
 */
const NUMBER_START =
  /(?<![\p{L}\p{N}\p{M}\p{Sc}_+\-.,/#@])(?:\+\d|\(?\d(?=\d{0,6}[ .()\-\u00a0\u2009\u202f\u2010\u2011\u2013]|\d{12}))(?=(?:[ .()\-\u00a0\u2009\u202f\u2010\u2011\u2013]{0,2}\d){7})/gu;
/** A number glued to a word on its right ("12d3", "4111…abc") is part of an id. */
const WORD_CHAR = /[\p{L}\p{N}\p{M}_]/uy;

const PLUS = 0x2b;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const SPACE = 0x20;
const DASH = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;

type Check = { name: number; kind: 'email' | 'phone' | 'card' } | { name: number; kind: 'pattern'; regex: RegExp };

/**
 * Compiles a configuration once. Throws on an unknown built-in detector, a pattern without a name
 * or a pattern that is not a valid `u`-flag regular expression (the message names the pattern).
 */
export function compilePersonalData(cfg: PersonalDataConfig): PersonalDataDetector {
  const names: string[] = [];
  const nameIndex = (name: string): number => {
    const i = names.indexOf(name);
    if (i >= 0) return i;
    names.push(name);
    return names.length - 1;
  };
  const checks: Check[] = [];
  for (const kind of cfg.detect ?? []) {
    if (!BUILT_IN.includes(kind)) {
      throw new Error(`personal_data.detect: unknown detector "${kind}" (known: ${BUILT_IN.join(', ')})`);
    }
    if (!checks.some((c) => c.kind === kind)) checks.push({ name: nameIndex(kind), kind });
  }
  for (const [i, p] of (cfg.patterns ?? []).entries()) {
    if (typeof p?.name !== 'string' || p.name === '') {
      throw new Error(`personal_data.patterns[${i}]: a name is required`);
    }
    let regex: RegExp;
    try {
      regex = new RegExp(p.regex, 'u');
    } catch (e) {
      throw new Error(
        `personal_data pattern "${p.name}": invalid regular expression: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    checks.push({ name: nameIndex(p.name), kind: 'pattern', regex });
  }
  Object.freeze(names);
  const phoneName = checks.find((c) => c.kind === 'phone')?.name ?? -1;
  const cardName = checks.find((c) => c.kind === 'card')?.name ?? -1;
  const needPhone = phoneName >= 0;
  const needCard = cardName >= 0;

  /** Sets found[name] for what `text` contains; returns true once every name is found. */
  const scan = (text: string, found: boolean[]): boolean => {
    const t = text.length > MAX_SCAN_CHARS ? text.slice(0, MAX_SCAN_CHARS) : text;
    let numbers: { phone: boolean; card: boolean } | undefined;
    let all = true;
    for (const c of checks) {
      if (found[c.name]) continue;
      let hit: boolean;
      switch (c.kind) {
        case 'email':
          hit = hasEmail(t);
          break;
        case 'phone':
        case 'card':
          numbers ??= findNumbers(t, needPhone && !found[phoneName], needCard && !found[cardName]);
          hit = numbers[c.kind];
          break;
        case 'pattern':
          hit = c.regex.test(t);
          break;
      }
      if (hit) found[c.name] = true;
      else all = false;
    }
    return all;
  };
  const result = (found: boolean[]): string[] => names.filter((_, i) => found[i]);

  return {
    names,
    detect(text: string): string[] {
      const found: boolean[] = names.map(() => false);
      if (typeof text === 'string' && names.length) scan(text, found);
      return result(found);
    },
    detectInBody(body: Record<string, unknown>): string[] {
      const found: boolean[] = names.map(() => false);
      if (!names.length) return [];
      const values: unknown[] = [body];
      const depths: number[] = [0];
      let nodes = 0;
      let chars = 0;
      const scanBounded = (s: string): boolean => {
        if (chars >= MAX_WALK_CHARS) return true;
        chars += Math.min(s.length, MAX_SCAN_CHARS);
        return scan(s, found);
      };
      while (values.length && nodes++ < MAX_WALK_NODES) {
        const value = values.pop();
        const depth = depths.pop()!;
        if (typeof value === 'string') {
          if (scanBounded(value)) break;
        } else if (value !== null && typeof value === 'object' && depth < MAX_WALK_DEPTH) {
          if (Array.isArray(value)) {
            for (const item of value) {
              values.push(item);
              depths.push(depth + 1);
            }
          } else {
            let done = false;
            for (const key of Object.keys(value)) {
              if (scanBounded(key)) {
                done = true;
                break;
              }
              values.push((value as Record<string, unknown>)[key]);
              depths.push(depth + 1);
            }
            if (done) break;
          }
        }
      }
      return result(found);
    },
  };
}

function hasEmail(t: string): boolean {
  if (!t.includes('@')) return false;
  EMAIL.lastIndex = 0;
  for (let m = EMAIL.exec(t); m !== null; m = EMAIL.exec(t)) {
    if (!FILE_EXTENSIONS.has(m[1].toLowerCase())) return true;
  }
  return false;
}

/** A run of digits in a number; `paren` for "(555)", `sep` the character before it (0: none). */
interface Group {
  start: number;
  end: number;
  paren: boolean;
  sep: number;
}

/** Phone: 8 numbered groups at most are kept for the decision; cards need the last 5. */
const PHONE_MAX_GROUPS = 8;
const CARD_MAX_GROUPS = 5;

/**
 * Reads every number in `t` once. A number is digit groups joined by one separator (space, dash or
 * dot) or by a parenthesised group ("(555) 123", "+44 (0)20"), optionally after a "+".
 */
function findNumbers(t: string, needPhone: boolean, needCard: boolean): { phone: boolean; card: boolean } {
  let phone = false;
  let card = false;
  NUMBER_START.lastIndex = 0;
  for (let m = NUMBER_START.exec(t); m !== null; m = NUMBER_START.exec(t)) {
    let start = m.index;
    if (t.charCodeAt(start) === OPEN_PAREN && parenEnd(t, start) < 0) start++;
    const plus = t.charCodeAt(start) === PLUS;
    let pos = plus ? start + 1 : start;
    const head: Group[] = []; // the first PHONE_MAX_GROUPS + 1
    const tail: Group[] = []; // the last CARD_MAX_GROUPS
    let count = 0;
    let spanCard = false;
    let sep = 0;
    for (;;) {
      let g: Group;
      const c = t.charCodeAt(pos);
      if (c === OPEN_PAREN) {
        const close = parenEnd(t, pos);
        if (close < 0) break;
        g = { start: pos + 1, end: close, paren: true, sep };
        pos = close + 1;
      } else if (isDigit(c)) {
        let end = pos + 1;
        while (isDigit(t.charCodeAt(end))) end++;
        g = { start: pos, end, paren: false, sep };
        pos = end;
      } else {
        break;
      }
      count++;
      if (head.length <= PHONE_MAX_GROUPS) head.push(g);
      tail.push(g);
      if (tail.length > CARD_MAX_GROUPS) tail.shift();
      if (!spanCard && endsWithCard(t, tail)) spanCard = true;

      const s = separator(t.charCodeAt(pos));
      if (s !== 0 && startsGroup(t, pos + 1)) {
        sep = s;
        pos++;
      } else if (startsGroup(t, pos) && (g.paren || t.charCodeAt(pos) === OPEN_PAREN)) {
        sep = 0; // "(0)20", "44(0)"
      } else {
        break;
      }
    }
    NUMBER_START.lastIndex = Math.max(pos, NUMBER_START.lastIndex);
    if (count === 0) continue;
    WORD_CHAR.lastIndex = pos;
    if (WORD_CHAR.test(t)) continue; // glued to a word: an id
    if (spanCard) card = true;
    else if (isPhone(t, plus, head, count)) phone = true;
    if ((phone || !needPhone) && (card || !needCard)) break;
  }
  return { phone, card };
}

/** SPACE, DASH or DOT for a character that joins digit groups, else 0. */
function separator(c: number): number {
  switch (c) {
    case SPACE:
    case 0xa0: // no-break space
    case 0x2009: // thin space
    case 0x202f: // narrow no-break space
      return SPACE;
    case DASH:
    case 0x2010: // hyphen
    case 0x2011: // non-breaking hyphen
    case 0x2013: // en dash
      return DASH;
    case DOT:
      return DOT;
    default:
      return 0;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Index of the ")" closing a "(" + 1–5 digits at `pos`, else -1. */
function parenEnd(t: string, pos: number): number {
  let i = pos + 1;
  while (i - pos <= 5 && isDigit(t.charCodeAt(i))) i++;
  return i > pos + 1 && t.charCodeAt(i) === CLOSE_PAREN ? i : -1;
}

function startsGroup(t: string, pos: number): boolean {
  const c = t.charCodeAt(pos);
  return isDigit(c) || (c === OPEN_PAREN && parenEnd(t, pos) >= 0);
}

function len(g: Group): number {
  return g.end - g.start;
}

/**
 * A card number ends at the newest group: one group of 13–19 digits, or 3–5 groups joined by
 * spaces or dashes, the first of 4 digits and the others of 3–6 (4-4-4-4, 4-6-5, 4-6-4,
 * 4-4-4-4-3), 13–19 digits in all, starting with 2–6 (the issuer digit of Visa, Mastercard,
 * Amex, Discover, JCB, Diners, UnionPay: 13-digit millisecond timestamps start with 1); and the
 * digits pass the Luhn check.
 */
function endsWithCard(t: string, tail: Group[]): boolean {
  const last = tail[tail.length - 1];
  if (last.paren) return false;
  if (len(last) >= 13 && len(last) <= 19) return issuer(t, last) && luhn(t, tail, tail.length - 1);
  if (len(last) < 3 || len(last) > 6) return false;
  let digits = len(last);
  for (let i = tail.length - 2; i >= 0; i--) {
    const g = tail[i];
    const joined = tail[i + 1].sep;
    if (g.paren || (joined !== SPACE && joined !== DASH) || len(g) < 3 || len(g) > 6) return false;
    digits += len(g);
    if (digits > 19) return false;
    const groups = tail.length - i;
    if (groups >= 3 && len(g) === 4 && digits >= 13 && issuer(t, g) && luhn(t, tail, i)) return true;
  }
  return false;
}

function issuer(t: string, first: Group): boolean {
  const d = t.charCodeAt(first.start) - ZERO;
  return d >= 2 && d <= 6;
}

/** Luhn check over the digits of tail[from..]. */
function luhn(t: string, tail: Group[], from: number): boolean {
  let total = 0;
  let double = false;
  for (let i = tail.length - 1; i >= from; i--) {
    const g = tail[i];
    for (let k = g.end - 1; k >= g.start; k--) {
      let d = t.charCodeAt(k) - ZERO;
      if (double) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      total += d;
      double = !double;
    }
  }
  return total % 10 === 0;
}

/**
 * Phone numbers (8–15 digits, E.164 allows 15):
 * - international: "+" and a country code not starting with 0, any grouping ("+41 44 668 18 00",
 *   "+14155552671", "+44 (0)20 7946 0958");
 * - national: at least two groups (plain digit runs are ids, timestamps, amounts: "5551234567" is
 *   not recognised), every group of 2+ digits except a leading NANP "1" ("1-800-555-0199"), dots
 *   only in the NANP 3-3-4 form ("555.123.4567": rejects versions and IP addresses), not starting
 *   like a date (YYYY-MM-DD, DD.MM.YYYY, MM/DD shapes with plausible values), at most 8 groups.
 * Known misses: other separators ("030/1234567"), a number glued to a word ("Tel.+41…",
 * "555-123-4567ext"), a plain run of digits without "+". Known false positives: amounts grouped
 * by spaces ("12 345 678"), the space-separated tail of an id ("x41 44 668 18 00").
 */
function isPhone(t: string, plus: boolean, head: Group[], count: number): boolean {
  if (count > PHONE_MAX_GROUPS) return false;
  let digits = 0;
  for (let i = 0; i < count; i++) digits += len(head[i]);
  if (digits < 8 || digits > 15) return false;
  if (plus) return t.charCodeAt(head[0].start) !== ZERO;
  if (count < 2) return false;

  const first = head[0];
  const nanpTrunk = !first.paren && len(first) === 1 && t.charCodeAt(first.start) === 0x31 && len(head[1]) === 3;
  let dots = false;
  let parens = false;
  for (let i = 0; i < count; i++) {
    const g = head[i];
    if (g.paren) parens = true;
    else if (len(g) < 2 && !(i === 0 && nanpTrunk)) return false;
    if (g.sep === DOT) dots = true;
  }
  if (dots) {
    const o = nanpTrunk ? 1 : 0; // only 555.123.4567 or 1.555.123.4567
    if (parens || count !== 3 + o || len(head[o]) !== 3 || len(head[o + 1]) !== 3 || len(head[o + 2]) !== 4) {
      return false;
    }
  }
  return !startsLikeDate(t, head, count);
}

/** YYYY-MM-DD, DD-MM-YYYY or MM-DD-YYYY (any one separator), years 1900–2099. */
function startsLikeDate(t: string, head: Group[], count: number): boolean {
  if (count < 3) return false;
  const [g0, g1, g2] = head;
  if (g0.paren || g1.paren || g2.paren || g1.sep !== g2.sep) return false;
  const shape = len(g0) * 100 + len(g1) * 10 + len(g2);
  if (shape === 422) return isYear(value(t, g0)) && isDayMonth(value(t, g2), value(t, g1));
  if (shape === 224) {
    const a = value(t, g0);
    const b = value(t, g1);
    return isYear(value(t, g2)) && (isDayMonth(a, b) || isDayMonth(b, a));
  }
  return false;
}

function value(t: string, g: Group): number {
  let v = 0;
  for (let k = g.start; k < g.end; k++) v = v * 10 + t.charCodeAt(k) - ZERO;
  return v;
}

function isYear(y: number): boolean {
  return y >= 1900 && y <= 2099;
}

function isDayMonth(d: number, m: number): boolean {
  return d >= 1 && d <= 31 && m >= 1 && m <= 12;
}
