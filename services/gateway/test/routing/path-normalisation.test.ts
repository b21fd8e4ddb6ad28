import { describe, expect, it } from 'vitest';
import { splitGatewayPath } from '../../src/routing/path.js';

describe('splitting a gateway path', () => {
  it('splits org, api, version, rest and query', () => {
    expect(splitGatewayPath('/dinkes/faskes/v1/puskesmas/12?kota=bogor&x=1')).toEqual({
      ok: true,
      path: { org: 'dinkes', api: 'faskes', version: 'v1', rest: '/puskesmas/12', query: '?kota=bogor&x=1' },
    });
  });

  it('keeps an empty rest empty and a bare trailing slash as /', () => {
    expect(splitGatewayPath('/dinkes/faskes/v1')).toMatchObject({ ok: true, path: { rest: '' } });
    expect(splitGatewayPath('/dinkes/faskes/v1/')).toMatchObject({ ok: true, path: { rest: '/' } });
    expect(splitGatewayPath('/dinkes/faskes/v1/a/')).toMatchObject({ ok: true, path: { rest: '/a/' } });
  });

  it('collapses repeated slashes anywhere', () => {
    expect(splitGatewayPath('//dinkes///faskes//v1//a////b')).toMatchObject({
      ok: true,
      path: { org: 'dinkes', api: 'faskes', version: 'v1', rest: '/a/b' },
    });
  });

  it('forwards the rest still percent-encoded, never decoded', () => {
    expect(splitGatewayPath('/dinkes/faskes/v1/nama/Budi%20Santoso')).toMatchObject({
      ok: true,
      path: { rest: '/nama/Budi%20Santoso' },
    });
  });

  it.each([
    '/dinkes/faskes/v1/../v2/x',
    '/dinkes/faskes/v1/..',
    '/dinkes/faskes/v1/a/../../../admin',
    '/dinkes/faskes/v1/./a',
    '/dinkes/faskes/v1/%2e%2e/v2',
    '/dinkes/faskes/v1/%2E%2E/v2',
    '/dinkes/faskes/v1/.%2e/v2',
    '/dinkes/faskes/v1/%2e./v2',
    '/dinkes/faskes/v1/%2e',
    '/dinkes/../other/v1/x',
    '/../dinkes/faskes/v1',
    '/dinkes/faskes/v1/a%2f..%2f..%2fadmin',
    '/dinkes/faskes/v1/a%2F..%2Fadmin',
    '/dinkes/faskes/v1/a%5c..%5cadmin',
    '/dinkes/faskes/v1/a\\..\\admin',
    '/dinkes/faskes/v1/%252e%252e/admin',
    '/dinkes/faskes/v1/a%252fb',
    '/dinkes/faskes/v1/a%00b',
    '/dinkes/faskes/v1/%zz',
    '/dinkes/faskes/v1/%e0%a4%a',
  ])('refuses %s as unsafe', (url) => {
    expect(splitGatewayPath(url)).toMatchObject({ ok: false, reason: 'bad' });
  });

  it('refuses a dot segment even when it sits in the query-free part only', () => {
    // `..` in the query is data, not a path segment
    expect(splitGatewayPath('/dinkes/faskes/v1/a?next=../../x')).toMatchObject({
      ok: true,
      path: { rest: '/a', query: '?next=../../x' },
    });
  });

  it.each([
    '/',
    '/dinkes',
    '/dinkes/faskes',
    '/Dinkes/faskes/v1',
    '/dinkes/fas_kes/v1',
    '/dinkes/faskes/%76%31',
    '/.well-known/faskes/v1',
    '/-dinkes/faskes/v1',
  ])('finds no route in %s', (url) => {
    expect(splitGatewayPath(url)).toMatchObject({ ok: false, reason: 'no-route' });
  });

  it('allows dots inside a segment name', () => {
    expect(splitGatewayPath('/dinkes/faskes/v1/file.v2..json')).toMatchObject({
      ok: true,
      path: { rest: '/file.v2..json' },
    });
  });
});
