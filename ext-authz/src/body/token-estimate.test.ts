import { describe, expect, it } from 'vitest';
import {
  CHARS_PER_TOKEN,
  DEFAULT_COMPLETION_TOKENS,
  estimateTokens,
  IMAGE_PART_TOKENS,
  MESSAGE_OVERHEAD_TOKENS,
} from './token-estimate.js';

describe('estimateTokens', () => {
  it('uses the documented constants', () => {
    expect([CHARS_PER_TOKEN, MESSAGE_OVERHEAD_TOKENS, IMAGE_PART_TOKENS, DEFAULT_COMPLETION_TOKENS]).toEqual([
      4, 4, 765, 256,
    ]);
  });

  describe('OpenAI chat', () => {
    it('counts string contents plus a per-message overhead', () => {
      const body = {
        model: 'gpt-4o',
        messages: [
          { role: 'system', content: 'You are helpful.' }, // 16 bytes: 4 + 4
          { role: 'user', content: 'Hello, how are you?' }, // 19 bytes: 5 + 4
        ],
      };
      expect(estimateTokens(body)).toEqual({ prompt: 17, completion: 256, total: 273 });
    });

    it('counts text parts, images at a fixed cost and other parts by JSON length', () => {
      const body = {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Describe this image' }, // 19 bytes: 5
              { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(100_000)}` } }, // 765
              'plain', // 2
              { type: 'input_audio', input_audio: { data: 'xyz' } }, // {"type":"input_audio","input_audio":{"data":"xyz"}}: 51 bytes: 13
            ],
          },
        ],
        max_tokens: 100,
      };
      expect(estimateTokens(body)).toEqual({ prompt: 4 + 5 + 765 + 2 + 13, completion: 100, total: 889 });
    });

    it('counts fields other than role and content by JSON length', () => {
      const body = {
        messages: [
          {
            role: 'assistant',
            content: null,
            // [{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]: 72 bytes: 18
            tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
          },
          { role: 'user', name: 'bob', content: 'ok' }, // "bob": 5 bytes: 2, "ok": 1
        ],
        // [{"type":"function","function":{"name":"get_weather"}}]: 55 bytes: 14
        tools: [{ type: 'function', function: { name: 'get_weather' } }],
      };
      expect(estimateTokens(body).prompt).toBe(4 + 18 + (4 + 2 + 1) + 14);
    });

    it('counts UTF-8 bytes, so non-Latin text costs more per character', () => {
      const body = { messages: [{ role: 'user', content: 'こんにちは' }] }; // 5 characters, 15 bytes: 4
      expect(estimateTokens(body).prompt).toBe(8);
    });

    it('takes the largest output limit and multiplies by n', () => {
      expect(estimateTokens({ messages: [], max_tokens: 20, max_completion_tokens: 50 })).toEqual({
        prompt: 0,
        completion: 50,
        total: 50,
      });
      expect(estimateTokens({ messages: [], max_completion_tokens: 50, n: 3 }).completion).toBe(150);
      expect(estimateTokens({ messages: [], n: 2 }).completion).toBe(512);
    });

    it('ignores output limits and n that are not positive integers', () => {
      for (const v of [0, -5, 1.5, '100', Number.NaN, null, 2 ** 60]) {
        expect(estimateTokens({ messages: [], max_tokens: v, n: v }).completion, String(v)).toBe(256);
      }
    });
  });

  describe('legacy completions', () => {
    it('counts a string prompt', () => {
      expect(estimateTokens({ prompt: 'Once upon a time', max_tokens: 16 })).toEqual({
        prompt: 4,
        completion: 16,
        total: 20,
      });
    });

    it('counts a batch of prompts and charges a completion for each', () => {
      expect(estimateTokens({ prompt: ['abcd', 'abcdefgh'] })).toEqual({ prompt: 3, completion: 512, total: 515 });
      expect(
        estimateTokens({
          prompt: [
            [1, 2],
            [3, 4, 5],
          ],
          max_tokens: 10,
        }),
      ).toEqual({
        prompt: 5,
        completion: 20,
        total: 25,
      });
    });

    it('counts a token array as its length', () => {
      expect(estimateTokens({ prompt: [1, 2, 3, 4, 5] })).toEqual({ prompt: 5, completion: 256, total: 261 });
    });

    it('charges the larger of n and best_of', () => {
      expect(estimateTokens({ prompt: 'x', max_tokens: 10, n: 2, best_of: 3 }).completion).toBe(30);
      expect(estimateTokens({ prompt: 'x', max_tokens: 10, n: 4, best_of: 3 }).completion).toBe(40);
    });
  });

  describe('embeddings', () => {
    it('counts string, string[], number[] and number[][] inputs, with no completion', () => {
      expect(estimateTokens({ model: 'text-embedding-3-small', input: 'hello world' })).toEqual({
        prompt: 3,
        completion: 0,
        total: 3,
      });
      expect(estimateTokens({ input: ['a', 'bcdef'] })).toEqual({ prompt: 3, completion: 0, total: 3 });
      expect(estimateTokens({ input: [1, 2, 3] })).toEqual({ prompt: 3, completion: 0, total: 3 });
      expect(estimateTokens({ input: [[1, 2], [3]], encoding_format: 'float' })).toEqual({
        prompt: 3,
        completion: 0,
        total: 3,
      });
      expect(estimateTokens({ input: [] })).toEqual({ prompt: 0, completion: 0, total: 0 });
    });
  });

  describe('Anthropic messages', () => {
    it('counts the system prompt as one more message', () => {
      const body = {
        model: 'claude-sonnet-4',
        system: 'Be brief.', // 9 bytes: 3 + 4
        messages: [{ role: 'user', content: 'Hi there' }], // 8 bytes: 2 + 4
        max_tokens: 1024,
      };
      expect(estimateTokens(body)).toEqual({ prompt: 13, completion: 1024, total: 1037 });
      expect(estimateTokens({ ...body, system: [{ type: 'text', text: 'Be brief.' }] }).prompt).toBe(13);
    });

    it('counts content blocks', () => {
      const body = {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' }, // 13 bytes: 4
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }, // 765
            ],
          },
          {
            role: 'assistant',
            // {"type":"tool_use","id":"t1","name":"f","input":{}}: 51 bytes: 13
            content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }],
          },
        ],
        max_tokens: 1,
      };
      expect(estimateTokens(body)).toEqual({ prompt: 4 + 4 + 765 + 4 + 13, completion: 1, total: 791 });
    });
  });

  describe('OpenAI Responses', () => {
    it('counts instructions and a string input', () => {
      const body = { model: 'gpt-4o', instructions: 'Be brief.', input: 'Hi there', max_output_tokens: 500 };
      expect(estimateTokens(body)).toEqual({ prompt: 7 + 2, completion: 500, total: 509 });
    });

    it('counts input items as messages', () => {
      const body = { model: 'gpt-4o', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Hi there' }] }] };
      expect(estimateTokens(body)).toEqual({ prompt: 6, completion: 256, total: 262 });
    });
  });

  describe('other APIs', () => {
    it('falls back to the JSON length of the body', () => {
      // {"agent_type":"research","task":"Find papers"}: 46 bytes: 12
      expect(estimateTokens({ agent_type: 'research', task: 'Find papers' })).toEqual({
        prompt: 12,
        completion: 256,
        total: 268,
      });
      expect(estimateTokens({ task: 'x', max_output_tokens: 0, max_tokens: 7 }).completion).toBe(7);
    });
  });

  describe('odd shapes', () => {
    it('never throws', () => {
      const cyclic: Record<string, unknown> = { messages: [{ role: 'user', content: 'hi' }] };
      cyclic.tools = cyclic;
      cyclic.self = cyclic;
      const odd: unknown[] = [
        null,
        undefined,
        42,
        'text',
        [],
        cyclic,
        { messages: [cyclic] },
        { messages: 'not an array' },
        { prompt: null },
        { prompt: { a: 1 } },
        { input: true },
        { input: [[[[[[[[1]]]]]]]] },
        { messages: [{ content: [null, 1, [], { text: 5 }] }] },
        { system: 5, messages: [] },
        { big: 10n },
      ];
      for (const body of odd) {
        expect(() => estimateTokens(body as Record<string, unknown>)).not.toThrow();
      }
      expect(estimateTokens(null as unknown as Record<string, unknown>)).toEqual({
        prompt: 0,
        completion: 0,
        total: 0,
      });
    });

    it('counts unusual messages without failing', () => {
      // null: 4+1, 42: 4+1, "hi": 4+1, {content:5}: 4+1, {role:"user"}: 4
      const body = { messages: [null, 42, 'hi', { content: 5 }, { role: 'user' }] };
      expect(estimateTokens(body).prompt).toBe(24);
    });
  });
});
