import { describe, expect, it } from 'vitest';
import { createValidatorCache } from '../../src/validation/validator-cache.js';
import { kependudukan31, perizinan30 } from './fixtures.js';

describe('the validator cache', () => {
  it('reuses the validators of an unchanged document and compiles only the new one', () => {
    const cache = createValidatorCache();
    const first = cache.compileSnapshot({ aaa: kependudukan31 });
    const second = cache.compileSnapshot({ aaa: kependudukan31, bbb: perizinan30 });
    expect(second.get('aaa')).toBe(first.get('aaa'));
    expect(second.get('bbb')).toBeDefined();
    expect(cache.size).toBe(2);
  });

  it('forgets documents the new snapshot no longer has, leaving the previous map intact', () => {
    const cache = createValidatorCache();
    const first = cache.compileSnapshot({ aaa: kependudukan31, bbb: perizinan30 });
    const second = cache.compileSnapshot({ bbb: perizinan30 });
    expect(second.has('aaa')).toBe(false);
    expect(first.has('aaa')).toBe(true);
    expect(cache.size).toBe(1);
    const third = cache.compileSnapshot({ aaa: kependudukan31, bbb: perizinan30 });
    expect(third.get('aaa')).not.toBe(first.get('aaa'));
    expect(third.get('bbb')).toBe(first.get('bbb'));
  });
});
