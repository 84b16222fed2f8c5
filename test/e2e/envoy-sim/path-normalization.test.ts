import { describe, expect, it } from 'vitest';
import { canonicalPath, normalizePath, type PathPolicy } from './path-normalization.js';

const gateway: PathPolicy = { normalizePath: true, mergeSlashes: true, escapedSlashes: 'UNESCAPE_AND_REDIRECT' };

describe('path normalisation (normalize_path, merge_slashes, escaped slashes)', () => {
  it('resolves dot segments and never climbs above /', () => {
    expect(canonicalPath('/a/./b/../c')).toBe('/a/c');
    expect(canonicalPath('/../../x')).toBe('/x');
    expect(canonicalPath('/a/b/..')).toBe('/a/');
    expect(canonicalPath('/a/.')).toBe('/a/');
    expect(canonicalPath('/a/%2e%2E/b')).toBe('/b');
  });

  it('treats backslash as slash, decodes unreserved escapes, keeps the others and escapes raw specials', () => {
    expect(canonicalPath('/a\\b')).toBe('/a/b');
    expect(canonicalPath('/%41%7e%2d')).toBe('/A~-');
    expect(canonicalPath('/a%20b%3f')).toBe('/a%20b%3f');
    expect(canonicalPath('/a b"<>')).toBe('/a%20b%22%3C%3E');
    expect(canonicalPath('/é')).toBe('/%C3%A9');
    expect(canonicalPath('/a%00')).toBeUndefined();
  });

  it('merges slashes after normalising and keeps the query untouched', () => {
    expect(normalizePath('//v1///models?x=a//b', gateway)).toEqual({ action: 'continue', path: '/v1/models?x=a//b' });
    expect(normalizePath('/v1/models#frag', gateway)).toEqual({ action: 'continue', path: '/v1/models' });
  });

  it('redirects when an escaped slash was unescaped (UNESCAPE_AND_REDIRECT), to the final path', () => {
    expect(normalizePath('/v1%2Fmodels', gateway)).toEqual({ action: 'redirect', path: '/v1/models' });
    expect(normalizePath('/v1/x%5c..%5Cmodels?q=%2F', gateway)).toEqual({
      action: 'redirect',
      path: '/v1/models?q=%2F',
    });
  });

  it('follows the other escaped-slash actions', () => {
    expect(normalizePath('/a%2Fb', { ...gateway, escapedSlashes: 'REJECT_REQUEST' }).action).toBe('reject');
    expect(normalizePath('/a%2Fb', { ...gateway, escapedSlashes: 'UNESCAPE_AND_FORWARD' })).toEqual({
      action: 'continue',
      path: '/a/b',
    });
    expect(normalizePath('/a%2Fb', { ...gateway, escapedSlashes: 'KEEP_UNCHANGED' })).toEqual({
      action: 'continue',
      path: '/a%2Fb',
    });
  });

  it('does nothing when nothing is configured', () => {
    const none: PathPolicy = { normalizePath: false, mergeSlashes: false, escapedSlashes: 'KEEP_UNCHANGED' };
    expect(normalizePath('//a/../b', none)).toEqual({ action: 'continue', path: '//a/../b' });
  });
});
