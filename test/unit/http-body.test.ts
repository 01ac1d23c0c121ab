import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { MAX_BODY_BYTES, parseBody, TransferBody, type HttpEvent } from '../../functions/handlers/api/http.js';

/** CONTRACT.md: a malformed body answers 400 naming what is wrong; the parser refuses what JSON.parse lets through. */
const event = (body: string | undefined, contentType: string | undefined = 'application/json') =>
  ({ body, headers: contentType === undefined ? {} : { 'content-type': contentType }, isBase64Encoded: false }) as unknown as HttpEvent;
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error: any) {
    return { name: error.name, message: error.message, path: error.path };
  }
  return undefined;
};
const Loose = z.record(z.string(), z.unknown());

describe('parseBody', () => {
  it('accepts a valid body, with or without a JSON content type, parameters and +json types included', () => {
    for (const type of [
      'application/json',
      'application/json; charset=utf-8',
      'Application/JSON',
      'application/vnd.offboard+json',
      undefined,
    ]) {
      expect(parseBody(event('{"userId":"a1","destinationOrganizationId":"C"}', type), TransferBody)).toEqual({
        userId: 'a1',
        destinationOrganizationId: 'C',
      });
    }
  });

  it('refuses a body declared as another media type', () => {
    expect(refusal(() => parseBody(event('{"userId":"a1","destinationOrganizationId":"C"}', 'text/plain'), TransferBody))).toMatchObject({
      name: 'InvalidRequest',
      message: expect.stringContaining('application/json'),
    });
  });

  it('refuses a key given twice, naming it, at any depth and however it is escaped', () => {
    expect(refusal(() => parseBody(event('{"userId":"a1","userId":"a2"}'), Loose))).toMatchObject({ path: 'userId' });
    expect(refusal(() => parseBody(event('{"a":{"b":1,"c":{"d":1},"\\u0062":2}}'), Loose))).toMatchObject({ path: 'a.b' });
    expect(refusal(() => parseBody(event('{"__proto__":1,"__proto__":2}'), Loose))).toMatchObject({ path: '__proto__' });
  });

  it('does not mistake values, strings holding quotes or braces, or keys of sibling objects for duplicates', () => {
    const body = '{"a":"a","b":["a",{"a":1},{"a":2}],"c":"x\\"a\\":{","d":{"a":{"a":1}}}';
    expect(parseBody(event(body), Loose)).toEqual(JSON.parse(body));
  });

  it('refuses nesting deeper than 32 levels and bodies over the limit', () => {
    expect(refusal(() => parseBody(event(`${'['.repeat(40)}${']'.repeat(40)}`), Loose))).toMatchObject({
      message: expect.stringContaining('32 levels'),
    });
    expect(refusal(() => parseBody(event(JSON.stringify({ a: 'x'.repeat(MAX_BODY_BYTES) })), Loose))).toMatchObject({
      message: expect.stringContaining(`${MAX_BODY_BYTES} bytes`),
    });
  });
});
