// Structured logging: one JSON object per line, {"time","level","service","msg",...fields}.
// Logging never throws: unserialisable fields become "[unserialisable]" and write errors are ignored.
// A line is made as bytes (log-line.ts) and batched as bytes: no string per line to collect.
import { fieldName, jsonString, LineBytes, type LogMembers } from './log-line.js';
import { LogOutput } from './log-output.js';

export { jsonString, type LogMembers, type MemberWriter } from './log-line.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;
export type LogFn = (msg: string, fields?: LogFields | LogMembers) => void;

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** The effective minimum level. */
  readonly level: LogLevel;
  /** Lines dropped since the start because the stream fell behind by more than maxHeldBytes. */
  dropped(): number;
}

export interface LoggerOptions {
  /** Minimum level; default from env LOG_LEVEL, else 'info'. */
  level?: LogLevel;
  /** Default process.stdout. */
  stream?: NodeJS.WritableStream;
  /**
   * Collect debug and info lines and write them together (one write instead of one per line: a
   * service that logs every request spends less on syscalls), in writes of whole lines of up to
   * PIPE_BUF bytes, one as soon as the next line would not fit; the rest `true`: once per turn of
   * the event loop, `{ maxDelayMs }`: when the oldest line has waited maxDelayMs (under load a
   * turn holds only a few lines: fewer, fuller writes). A warn or error line is written at once, after the lines
   * waiting; what waits is also written when the process exits normally (a SIGKILL loses it: up to
   * maxDelayMs of lines).
   */
  batch?: boolean | { maxDelayMs: number };
  /**
   * Output held while the stream asks to wait (a log reader that falls behind); beyond it, lines
   * are dropped, counted (dropped()) and reported once the stream drains. Default 16 MiB.
   */
  maxHeldBytes?: number;
}

/** Default LoggerOptions.maxHeldBytes: about a second and a half of audit lines at 35,000 checks a second. */
export const MAX_HELD_LOG_BYTES = 16 * 1024 * 1024;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const UNSERIALISABLE = '[unserialisable]';

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}

export function createLogger(service: string, opts: LoggerOptions = {}): Logger {
  const fromEnv = process.env.LOG_LEVEL?.trim().toLowerCase();
  const level: LogLevel = opts.level ?? (isLogLevel(fromEnv) ? fromEnv : 'info');
  const stream = opts.stream ?? process.stdout;
  const replacer = makeReplacer(level === 'debug');
  const quotedService = jsonString(service);
  const line = new LineBytes();

  const maxDelayMs = typeof opts.batch === 'object' ? opts.batch.maxDelayMs : undefined;
  // Lines waiting (batch): whole lines, at most PIPE_BUF octets. A new buffer after each write,
  // as the stream may hold the last one until the pipe takes it.
  let waiting: Buffer | undefined;
  let waitingBytes = 0;
  let scheduled = false;
  // Said once the stream drains after lines were dropped (make is defined below; a line written
  // then goes through the output like any other).
  const output = new LogOutput(stream, opts.maxHeldBytes ?? MAX_HELD_LOG_BYTES, (dropped) =>
    make('warn')('log lines dropped: the log reader fell behind', { dropped }),
  );
  const write = (bytes: Buffer) => output.write(bytes);
  const flush = () => {
    if (waiting === undefined || waitingBytes === 0) return;
    const bytes = waiting.subarray(0, waitingBytes);
    waiting = undefined;
    waitingBytes = 0;
    write(bytes);
  };
  const scheduledFlush = () => {
    scheduled = false;
    flush();
  };
  // At exit, what waits goes to the output, which writes what it holds (its own exit hook).
  if (opts.batch) process.once('exit', flush);
  /** The line just made (in `line`), batched or written at once. */
  const deliver = (lineLevel: LogLevel) => {
    if (!opts.batch || RANK[lineLevel] >= RANK.warn || line.length > PIPE_BUF) {
      flush(); // a line longer than PIPE_BUF goes alone, as it would unbatched
      write(line.copy());
      return;
    }
    // What waits always fits one atomic write: written before a line that would not fit.
    if (waitingBytes + line.length > PIPE_BUF) flush();
    waiting ??= Buffer.allocUnsafeSlow(PIPE_BUF);
    line.copyTo(waiting, waitingBytes);
    waitingBytes += line.length;
    if (!scheduled) {
      scheduled = true;
      if (maxDelayMs === undefined) setImmediate(scheduledFlush).unref();
      else setTimeout(scheduledFlush, maxDelayMs).unref();
    }
  };

  const make =
    (lineLevel: LogLevel): LogFn =>
    (msg, fields) => {
      if (RANK[lineLevel] < RANK[level]) return;
      try {
        line.reset();
        if (isLogMembers(fields)) {
          line.text('{"time":"');
          line.text(isoNow());
          line.text('","level":"');
          line.text(lineLevel);
          line.text('","service":');
          line.text(quotedService);
          line.text(',"msg":');
          line.jsonString(typeof msg === 'string' ? msg : String(msg));
          fields.writeMembers(line);
          line.byte(0x7d); // }
        } else line.text(formatLine(lineLevel, service, msg, fields, replacer));
        line.byte(0x0a); // \n
      } catch (e) {
        // Fields that could not write themselves: the line is lost, and says so in its place (an
        // audit line must not go missing without a trace). Anything else: never let logging
        // break the caller.
        if (!isLogMembers(fields)) return;
        try {
          line.reset();
          const why = { dropped_msg: String(msg), error: e };
          line.text(formatLine('error', service, 'log line dropped: its fields could not be written', why, replacer));
          line.byte(0x0a);
        } catch {
          return;
        }
        deliver('error');
        return;
      }
      deliver(lineLevel);
    };

  return {
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
    level,
    dropped: () => output.droppedLines,
  };
}

function isLogMembers(fields: unknown): fields is LogMembers {
  return typeof (fields as Partial<LogMembers> | undefined)?.writeMembers === 'function';
}

/**
 * POSIX writes to a pipe of at most PIPE_BUF bytes (4096 on Linux) are atomic: with --workers,
 * several processes write to one stdout pipe, so batched lines go in writes of whole lines of at
 * most that size, never a line split by another process's write. (A single longer line is written
 * alone, as it was before batching.) This holds while the pipe has room: when its reader falls
 * behind, Node queues the chunks and may hand several to one larger write.
 */
export const PIPE_BUF = 4096;

// The time of the last line, formatted once per millisecond (a service may log thousands of lines a second).
let lastMs = Number.NaN;
let lastIso = '';
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

// Field names repeat from line to line: each is quoted once (a bounded number of them).
const quotedKeys = new Map<string, string>();
function quoteKey(key: string): string {
  let q = quotedKeys.get(key);
  if (q === undefined) {
    q = jsonString(key);
    if (quotedKeys.size < 1000) quotedKeys.set(key, q);
  }
  return q;
}

/**
 * `,"key":value` for every field when all are strings, numbers, booleans, null or undefined (left
 * out) and no key needs renaming or reordering: what JSON.stringify of the record would write,
 * without building the record. undefined otherwise (formatLine then takes the general way).
 */
function plainFields(fields: LogFields): string | undefined {
  let out = '';
  for (const key of Object.keys(fields)) {
    // Integer-like keys come first in an object (and so in its JSON): the general way keeps that order.
    const c = key.charCodeAt(0);
    if (fieldName(key) !== key || key === '__proto__' || (c >= 48 && c <= 57)) return undefined;
    const v = fields[key];
    switch (typeof v) {
      case 'undefined':
        continue;
      case 'string':
        out += `,${quoteKey(key)}:${jsonString(v)}`;
        continue;
      case 'number':
        out += `,${quoteKey(key)}:${Number.isFinite(v) ? v : 'null'}`;
        continue;
      case 'boolean':
        out += `,${quoteKey(key)}:${v}`;
        continue;
      default:
        if (v !== null) return undefined;
        out += `,${quoteKey(key)}:null`;
    }
  }
  return out;
}

function formatLine(
  level: LogLevel,
  service: string,
  msg: unknown,
  fields: LogFields | undefined,
  replacer: Replacer,
): string {
  const time = isoNow();
  const text = typeof msg === 'string' ? msg : String(msg);
  const plain = fields && typeof fields === 'object' ? plainFields(fields) : '';
  if (plain !== undefined)
    return `{"time":"${time}","level":"${level}","service":${quoteKey(service)},"msg":${jsonString(text)}${plain}}`;
  const record: Record<string, unknown> = { time, level, service, msg: text };
  if (fields && typeof fields === 'object') {
    for (const key of Object.keys(fields)) {
      // Fields never overwrite the fixed keys; they keep their value under a prefixed name.
      record[fieldName(key)] = fields[key];
    }
  }
  try {
    // The replacer (Errors, bigints) makes JSON.stringify several times slower: only when needed.
    return JSON.stringify(record, needsReplacer(record) ? replacer : undefined);
  } catch {
    // Find the culprit(s) field by field.
    for (const key of Object.keys(record)) {
      try {
        JSON.stringify(record[key], replacer);
      } catch {
        record[key] = UNSERIALISABLE;
      }
    }
    try {
      return JSON.stringify(record, replacer);
    } catch {
      return JSON.stringify({ time: record.time, level, service, msg: record.msg, fields: UNSERIALISABLE });
    }
  }
}

function needsReplacer(record: Record<string, unknown>): boolean {
  for (const key in record) {
    const v = record[key];
    if (typeof v === 'bigint' || (typeof v === 'object' && v !== null)) return true;
  }
  return false;
}

type Replacer = (this: unknown, key: string, value: unknown) => unknown;

function makeReplacer(withStack: boolean): Replacer {
  return (_key, value) => {
    if (value instanceof Error) {
      const out: Record<string, unknown> = { message: value.message, name: value.name };
      const code = (value as { code?: unknown }).code;
      if (typeof code === 'string' || typeof code === 'number') out.code = code;
      if (withStack && value.stack) out.stack = value.stack;
      return out;
    }
    if (typeof value === 'bigint') return value.toString();
    return value;
  };
}
