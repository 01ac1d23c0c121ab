import { describe, expect, it } from 'vitest';
import { costOf, PRICES, s3ClassOf, type Usage } from '../../bench/cost.js';

const none: Usage = { wru: 0, rru: 0, stateTransitions: 0, lambda: {}, s3: { put: 0, get: 0, delete: 0 }, apiRequests: 0 };

describe('bench cost calculator (bench/cost.ts, us-east-1 on-demand)', () => {
  it('one million WRU cost $0.625, one million RRU $0.125 (on-demand prices after the 2024-11 cut)', () => {
    expect(costOf({ ...none, wru: 1e6 }).dynamodb).toBeCloseTo(0.625, 10);
    expect(costOf({ ...none, rru: 1e6 }).dynamodb).toBeCloseTo(0.125, 10);
  });

  it('Step Functions standard: $0.025 per 1,000 transitions; API Gateway HTTP: $1.00 per million', () => {
    const c = costOf({ ...none, stateTransitions: 4000, apiRequests: 2_000_000 });
    expect(c.stepFunctions).toBeCloseTo(0.1, 10);
    expect(c.apiGateway).toBeCloseTo(2, 10);
    expect(c.total).toBeCloseTo(2.1, 10);
  });

  it('Lambda is priced by the architecture the template uses: arm64 GB-s cheaper than x86_64, $0.20 per million requests', () => {
    const arm = costOf({ ...none, lambda: { arm64: { invocations: 1e6, gbSeconds: 1000 } } }).lambda;
    const x86 = costOf({ ...none, lambda: { x86_64: { invocations: 1e6, gbSeconds: 1000 } } }).lambda;
    expect(arm).toBeCloseTo(0.2 + 1000 * 0.0000133334, 10);
    expect(x86).toBeCloseTo(0.2 + 1000 * 0.0000166667, 10);
    expect(() => costOf({ ...none, lambda: { sparc: { invocations: 1, gbSeconds: 1 } } })).toThrow(/architecture sparc/);
  });

  it('S3: PUT/COPY/POST/LIST $0.005 and GET $0.0004 per 1,000; DELETE and DeleteObjects are free', () => {
    expect(s3ClassOf('PutObject')).toBe('put');
    expect(s3ClassOf('ListObjectsV2')).toBe('put');
    expect(s3ClassOf('GetObject')).toBe('get');
    expect(s3ClassOf('HeadObject')).toBe('get');
    expect(s3ClassOf('DeleteObjects')).toBe('delete');
    expect(costOf({ ...none, s3: { put: 1000, get: 1000, delete: 1e6 } }).s3).toBeCloseTo(0.0054, 10);
  });

  it('a negative or non-numeric usage is refused, naming the figure', () => {
    expect(() => costOf({ ...none, wru: -1 })).toThrow(/wru must be a number ≥ 0/);
    expect(() => costOf({ ...none, rru: Number.NaN })).toThrow(/rru/);
  });

  it('the price table names its region, date and source pages', () => {
    expect(PRICES.region).toBe('us-east-1');
    expect(PRICES.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const source of Object.values(PRICES.sources)) expect(source).toMatch(/^https:\/\/aws\.amazon\.com\//);
  });
});
