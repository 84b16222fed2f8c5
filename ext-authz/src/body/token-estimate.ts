// Token estimate of an LLM request, from its JSON body alone. Token limits (`token_limits` in
// policy.yaml) are charged on this estimate by ext-authz, before the request is sent: there is no
// tokenizer and no look at the response, so it is deliberately simple, fast and never throws.
//
// Text: ceil(UTF-8 bytes / CHARS_PER_TOKEN) per text. For ASCII a byte is a character; counting
// bytes rather than UTF-16 units charges CJK and other non-Latin scripts (≈ 1 token per character
// or more) about 3/4 token per character instead of 1/4, which is far closer.
//
// Shapes, tried in this order:
// - `messages` array (OpenAI chat, Anthropic messages): per message MESSAGE_OVERHEAD_TOKENS +
//   its content (a string, or parts: a `text` string counts as text, an image part counts
//   IMAGE_PART_TOKENS, any other part its JSON length) + the JSON length of every other field but
//   `role` (`name`, `tool_calls`, ...). Anthropic `system` (string or text blocks) counts as one
//   more message. Top-level `tools` / `functions` count their JSON length.
// - `prompt` (legacy completions): a string or string[] as text, a token array (number[] or
//   number[][]) as its length; no overhead.
// - `input` with an object item, or `instructions`, `max_output_tokens` or `previous_response_id`
//   (OpenAI Responses API): object items count as messages, strings as text, `instructions` as a
//   message, `tools` by JSON length. A bare `{model, input: "..."}` is read as embeddings.
// - `input` otherwise (embeddings): string | string[] as text, number[] | number[][] as length.
// - anything else (agent APIs): the JSON length of the whole body.
//
// Completion: the largest positive integer among `max_tokens`, `max_completion_tokens` and
// `max_output_tokens`, else DEFAULT_COMPLETION_TOKENS (0 for embeddings). It is multiplied by the
// number of choices `n` (chat, completions; for completions the larger of `n` and `best_of`) and,
// for completions, by the number of prompts in a batch.

/** Bytes of text per token. */
export const CHARS_PER_TOKEN = 4;
/** Per chat message: role and delimiters. */
export const MESSAGE_OVERHEAD_TOKENS = 4;
/** An image part (`image_url`, `image`, `input_image`), whatever its size: a mid-size image. */
export const IMAGE_PART_TOKENS = 765;
/** Completion charged when the request sets no output limit (chat, completions, other). */
export const DEFAULT_COMPLETION_TOKENS = 256;

export interface TokenEstimate {
  prompt: number;
  completion: number;
  total: number;
}

type Shape = 'chat' | 'completions' | 'responses' | 'embeddings' | 'other';

const IMAGE_PART_TYPES = new Set(['image_url', 'image', 'input_image']);
/** Arrays nested deeper than this inside `prompt` / `input` are charged by JSON length. */
const MAX_INPUT_NESTING = 4;

export function estimateTokens(body: Record<string, unknown>): TokenEstimate {
  if (!isObject(body)) return { prompt: 0, completion: 0, total: 0 };
  let shape: Shape;
  let prompt: number;
  let batch = 1;
  if (Array.isArray(body.messages)) {
    shape = 'chat';
    prompt = sum(body.messages, messageTokens) + systemTokens(body.system) + toolTokens(body);
  } else if (body.prompt !== undefined) {
    shape = 'completions';
    prompt = inputTokens(body.prompt, 0);
    batch = promptCount(body.prompt);
  } else if (body.input !== undefined && isResponses(body)) {
    shape = 'responses';
    prompt = inputTokens(body.input, 0) + systemTokens(body.instructions) + toolTokens(body);
  } else if (body.input !== undefined) {
    shape = 'embeddings';
    prompt = inputTokens(body.input, 0);
  } else {
    shape = 'other';
    prompt = jsonTokens(body);
  }

  let completion = maxOutputTokens(body) ?? (shape === 'embeddings' ? 0 : DEFAULT_COMPLETION_TOKENS);
  if (shape === 'chat' || shape === 'completions') {
    const choices = Math.max(
      positiveInteger(body.n) ?? 1,
      shape === 'completions' ? (positiveInteger(body.best_of) ?? 1) : 1,
    );
    completion *= choices * batch;
  }
  completion = Math.min(completion, Number.MAX_SAFE_INTEGER);
  return { prompt, completion, total: Math.min(prompt + completion, Number.MAX_SAFE_INTEGER) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function positiveInteger(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

function maxOutputTokens(body: Record<string, unknown>): number | undefined {
  let max: number | undefined;
  for (const key of ['max_tokens', 'max_completion_tokens', 'max_output_tokens']) {
    const v = positiveInteger(body[key]);
    if (v !== undefined && (max === undefined || v > max)) max = v;
  }
  return max;
}

function isResponses(body: Record<string, unknown>): boolean {
  return (
    (Array.isArray(body.input) && body.input.some(isObject)) ||
    body.instructions !== undefined ||
    body.max_output_tokens !== undefined ||
    body.previous_response_id !== undefined
  );
}

function sum(items: unknown[], count: (item: unknown) => number): number {
  let total = 0;
  for (const item of items) total += count(item);
  return total;
}

function textTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / CHARS_PER_TOKEN);
}

/** The JSON length of a value in tokens; 0 for what JSON cannot represent (undefined, cycles). */
function jsonTokens(value: unknown): number {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    return 0; // a cycle, a BigInt or a throwing toJSON: never from JSON.parse
  }
  return json === undefined ? 0 : textTokens(json);
}

function messageTokens(message: unknown): number {
  if (typeof message === 'string') return MESSAGE_OVERHEAD_TOKENS + textTokens(message);
  if (!isObject(message)) return MESSAGE_OVERHEAD_TOKENS + jsonTokens(message);
  let tokens = MESSAGE_OVERHEAD_TOKENS;
  for (const key of Object.keys(message)) {
    if (key === 'role') continue;
    tokens += key === 'content' ? contentTokens(message[key]) : jsonTokens(message[key]);
  }
  return tokens;
}

function contentTokens(content: unknown): number {
  if (typeof content === 'string') return textTokens(content);
  if (Array.isArray(content)) return sum(content, partTokens);
  if (content === null || content === undefined) return 0;
  return jsonTokens(content);
}

function partTokens(part: unknown): number {
  if (typeof part === 'string') return textTokens(part);
  if (!isObject(part)) return part === null || part === undefined ? 0 : jsonTokens(part);
  if (typeof part.text === 'string') return textTokens(part.text);
  if (typeof part.type === 'string' && IMAGE_PART_TYPES.has(part.type)) return IMAGE_PART_TOKENS;
  return jsonTokens(part);
}

/** Anthropic `system` or Responses `instructions`: one more message when present. */
function systemTokens(system: unknown): number {
  if (system === undefined || system === null) return 0;
  return MESSAGE_OVERHEAD_TOKENS + contentTokens(system);
}

function toolTokens(body: Record<string, unknown>): number {
  return jsonTokens(body.tools) + jsonTokens(body.functions);
}

/** `prompt` / `input`: text, token ids (1 each), arrays of those, or Responses items. */
function inputTokens(input: unknown, nesting: number): number {
  if (typeof input === 'string') return textTokens(input);
  if (typeof input === 'number') return 1;
  if (Array.isArray(input)) {
    if (nesting >= MAX_INPUT_NESTING) return jsonTokens(input);
    let tokens = 0;
    for (const item of input) tokens += inputTokens(item, nesting + 1);
    return tokens;
  }
  if (isObject(input)) return messageTokens(input);
  return 0;
}

/** Prompts in a legacy completions batch: string[] or number[][] are several, anything else one. */
function promptCount(prompt: unknown): number {
  if (!Array.isArray(prompt) || prompt.length === 0) return 1;
  return prompt.every((p) => typeof p === 'number') ? 1 : prompt.length;
}
