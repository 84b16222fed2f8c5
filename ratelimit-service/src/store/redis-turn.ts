// Calls that arrive in the same turn of the event loop share one round trip per node group: one
// pipeline (one socket write, one batch of replies), or, on a single node when every hit of the turn
// is a fixed-window increment (what gen build emits), one FIXED_WINDOW_BATCH_LUA call doing the same
// INCRBY + EXPIRE per key: one command instead of two per hit, which halves what ioredis spends
// building commands and the garbage they leave. The script carries keys of any slot, so it is used
// only once the server said it is a plain standalone Redis (RedisStore asks INFO at each connect):
// a cluster node or a sharding proxy behind one URL (which may route a script by its first key)
// gets the pipeline. A CROSSSLOT or script refusal also turns it off (nothing ran: resent as a pipeline). Each call reads only its own replies, so one call's
// error reply fails that call alone. One timer per turn bounds every call of it: a call settles
// within timeoutMs whatever happens underneath.
import type { Cluster, Redis } from 'ioredis';
import { type Plan, RedisStoreError, type ScriptCommander } from './redis-plans.js';
import type { HitResult } from './store.js';

type BatchClient = { rlFixedWindowBatch(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<unknown> };

/** Most keys in one FIXED_WINDOW_BATCH_LUA call (a larger turn is split): bounds how long Redis runs one script. */
const MAX_BATCH_KEYS = 512;

/** One call's plans for one node group; plans[i] (null: answered locally) fills results[i]. */
interface Share {
  plans: (Plan | null)[];
  /** The indexes of plans this share sends (Cluster: the call's hits on this group); all when undefined. */
  only: number[] | undefined;
  results: HitResult[];
  resolve(results: HitResult[]): void;
  reject(e: Error): void;
  settled: boolean;
}

interface Round {
  groups: Map<string, Share[]>;
  open: number;
  start: number;
  timer: NodeJS.Timeout | undefined;
}

function describeError(e: Error): string {
  // maxRetriesPerRequest: 0 turns "the connection dropped with this command in flight" into this error.
  if (e.name === 'MaxRetriesPerRequestError') return 'connection lost with commands in flight';
  return e.message;
}

function eachPlan(share: Share, fn: (plan: Plan, index: number) => void): void {
  if (share.only) for (const i of share.only) fn(share.plans[i]!, i);
  else
    for (let i = 0; i < share.plans.length; i++) {
      const plan = share.plans[i];
      if (plan) fn(plan, i);
    }
}

export class TurnBatcher {
  private round: Round | undefined;

  constructor(
    private readonly client: Redis | Cluster,
    /** Masked URL(s), for messages. */
    private readonly target: string,
    private readonly timeoutMs: number,
    /** Whether a turn of fixed-window increments may go as one script; see useScripts. */
    private scriptBatches = false,
  ) {}

  /** Scripts across slots are safe only on a plain standalone Redis: RedisStore says so after INFO. */
  useScripts(on: boolean): void {
    this.scriptBatches = on;
  }

  /** Sends the plans with the rest of this turn in `group`'s round trip; resolves with results filled in. */
  submit(group: string, plans: (Plan | null)[], results: HitResult[], only?: number[]): Promise<HitResult[]> {
    return new Promise((resolve, reject) => {
      let round = this.round;
      if (!round) {
        const r: Round = { groups: new Map(), open: 0, start: Date.now(), timer: undefined };
        r.timer = setTimeout(() => this.expire(r), this.timeoutMs);
        setImmediate(() => this.flush(r));
        this.round = round = r;
      }
      const share: Share = { plans, only, results, resolve, reject, settled: false };
      round.open++;
      const list = round.groups.get(group);
      if (list) list.push(share);
      else round.groups.set(group, [share]);
    });
  }

  private settle(round: Round, share: Share, error: Error | null): void {
    if (share.settled) return;
    share.settled = true;
    if (error) share.reject(error);
    else share.resolve(share.results);
    if (--round.open === 0) clearTimeout(round.timer);
  }

  private expire(round: Round): void {
    const e = new RedisStoreError(
      `redis ${this.target}: no answer within ${this.timeoutMs} ms (${Date.now() - round.start} ms)`,
    );
    for (const shares of round.groups.values()) for (const s of shares) this.settle(round, s, e);
  }

  private fail(round: Round, shares: Share[], e: Error): void {
    const err = e instanceof RedisStoreError ? e : new RedisStoreError(`redis ${this.target}: ${describeError(e)}`);
    for (const s of shares) this.settle(round, s, err);
  }

  private flush(round: Round): void {
    if (this.round === round) this.round = undefined;
    for (const shares of round.groups.values()) {
      if (this.scriptBatches && shares.every((s) => allIncrements(s))) this.sendIncrements(round, shares);
      else this.sendPipeline(round, shares);
    }
  }

  private sendPipeline(round: Round, shares: Share[]): void {
    const p = this.client.pipeline() as ScriptCommander;
    for (const s of shares) eachPlan(s, (plan) => plan.enqueue(p));
    p.exec().then(
      (replies) => {
        if (!replies) return this.fail(round, shares, new RedisStoreError(`redis ${this.target}: pipeline aborted`));
        let at = 0;
        for (const s of shares) {
          let error: Error | null = null;
          eachPlan(s, (plan, i) => {
            for (let k = 0; k < plan.replies; k++) {
              const e = replies[at + k][0];
              if (e && !error) error = new RedisStoreError(`redis ${this.target}: ${describeError(e)}`);
            }
            if (!error) error = this.read(s, plan, i, replies[at][1]);
            at += plan.replies;
          });
          this.settle(round, s, error);
        }
      },
      (e: Error) => this.fail(round, shares, e),
    );
  }

  private sendIncrements(round: Round, shares: Share[]): void {
    let chunk: Share[] = [];
    let keys = 0;
    const send = () => {
      const sent = chunk;
      const names: string[] = [];
      const args: number[] = [];
      for (const s of sent)
        eachPlan(s, (plan) => {
          names.push(plan.slotKey);
          args.push(plan.hit.hits, plan.ttlSeconds!);
        });
      (this.client as unknown as BatchClient).rlFixedWindowBatch(names.length, ...names, ...args).then(
        (counts) => {
          if (!Array.isArray(counts) || counts.length !== names.length)
            return this.fail(
              round,
              sent,
              new RedisStoreError(`redis ${this.target}: unexpected reply to the fixed window script`),
            );
          let at = 0;
          for (const s of sent) {
            let error: Error | null = null;
            eachPlan(s, (plan, i) => {
              const n = counts[at++];
              if (error) return;
              if (n instanceof Error) error = new RedisStoreError(`redis ${this.target}: ${describeError(n)}`);
              else error = this.read(s, plan, i, n);
            });
            this.settle(round, s, error);
          }
        },
        (e: Error) => {
          // A Redis that refuses scripts (an ACL without EVAL/EVALSHA, as envoyproxy/ratelimit never
          // needed them; a proxy without Lua): nothing ran, so the same hits go again as the
          // INCRBY + EXPIRE pipeline, and every later turn too.
          if (scriptsRefused(e)) {
            this.scriptBatches = false;
            this.sendPipeline(round, sent);
          } else this.fail(round, sent, e);
        },
      );
      chunk = [];
      keys = 0;
    };
    for (const s of shares) {
      const n = s.only ? s.only.length : s.plans.length;
      if (keys > 0 && keys + n > MAX_BATCH_KEYS) send();
      chunk.push(s);
      keys += n;
    }
    if (chunk.length) send();
  }

  /** Reads one plan's result into the share; an unexpected reply is that call's error. */
  private read(s: Share, plan: Plan, index: number, first: unknown): Error | null {
    try {
      s.results[index] = plan.read(first);
      return null;
    } catch (e) {
      return e as Error;
    }
  }
}

/** An error reply saying scripts cannot run here at all (not a failure of this one call). */
function scriptsRefused(e: Error): boolean {
  return /^(NOPERM|CROSSSLOT|ERR unknown command)|\b(eval|evalsha|script)\b.*\b(disabled|not allowed|unknown|not supported)/i.test(
    e.message,
  );
}

function allIncrements(s: Share): boolean {
  let all = true;
  eachPlan(s, (plan) => {
    if (plan.ttlSeconds === undefined) all = false;
  });
  return all;
}
