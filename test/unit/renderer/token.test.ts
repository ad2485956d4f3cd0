import { describe, expect, it } from 'vitest';
import { isPlausibleToken, tokenFromFragment } from '../../../renderer/src/api/token.js';

const TOKEN = '0123456789abcdef'.repeat(4);

describe('tokenFromFragment', () => {
  it('reads the form the agent prints and leaves an empty fragment', () => {
    expect(tokenFromFragment(`#token=${TOKEN}`)).toEqual({ kind: 'token', token: TOKEN, rest: '' });
  });

  it('keeps a route and other parameters when it removes the token', () => {
    expect(tokenFromFragment(`#/system?token=${TOKEN}`)).toEqual({ kind: 'token', token: TOKEN, rest: '#/system' });
    expect(tokenFromFragment(`#/gpus?x=1&token=${TOKEN}`)).toEqual({ kind: 'token', token: TOKEN, rest: '#/gpus?x=1' });
    expect(tokenFromFragment(`#token=${TOKEN}&theme=dark`)).toEqual({ kind: 'token', token: TOKEN, rest: '#theme=dark' });
  });

  it('finds nothing in a plain route or an empty fragment', () => {
    expect(tokenFromFragment('')).toEqual({ kind: 'none' });
    expect(tokenFromFragment('#')).toEqual({ kind: 'none' });
    expect(tokenFromFragment('#/gpus')).toEqual({ kind: 'none' });
    expect(tokenFromFragment('#/gpus?x=1')).toEqual({ kind: 'none' });
  });

  it('calls an empty, short or unsafe token malformed (it could not be sent as a subprotocol)', () => {
    expect(tokenFromFragment('#token=')).toEqual({ kind: 'malformed' });
    expect(tokenFromFragment('#token=abc')).toEqual({ kind: 'malformed' });
    expect(tokenFromFragment('#token=abc%20def%2Cghijklmnop')).toEqual({ kind: 'malformed' });
    expect(tokenFromFragment(`#token=${'a'.repeat(600)}`)).toEqual({ kind: 'malformed' });
  });

  it('accepts the fragment with or without its leading #', () => {
    expect(tokenFromFragment(`token=${TOKEN}`)).toMatchObject({ kind: 'token', token: TOKEN });
  });
});

describe('isPlausibleToken', () => {
  it('accepts a stored agent token and refuses junk', () => {
    expect(isPlausibleToken(TOKEN)).toBe(true);
    expect(isPlausibleToken(null)).toBe(false);
    expect(isPlausibleToken('')).toBe(false);
    expect(isPlausibleToken('has space in it')).toBe(false);
  });
});
