import { describe, expect, it } from 'vitest';
import {
  decideRunTransition,
  initialRunStatus,
  RESUME_WINDOW_MS,
  RUN_STATUSES,
  RUN_TRANSITIONS,
  type RunStatus,
} from '../../functions/domain/lifecycle/bulk-run.js';

const at = Date.parse('2026-11-20T09:00:00Z');
const run = (status: RunStatus, extra: { failedAt?: string; deletingStartedAt?: string } = {}) => ({ id: 'b1-e', status, ...extra });

describe('the bulk run lifecycle (functions/domain/lifecycle/bulk-run.ts)', () => {
  it('B4: more members than the threshold wait for an operator; as many or fewer run at once', () => {
    expect(initialRunStatus(501, 500)).toBe('awaiting-confirmation');
    expect(initialRunStatus(500, 500)).toBe('running');
    expect(initialRunStatus(3, 2)).toBe('awaiting-confirmation');
  });

  it('B4: only an operator confirms, and only a run awaiting confirmation', () => {
    expect(decideRunTransition(run('awaiting-confirmation'), 'confirm', 'operator', at)).toMatchObject({ ok: true, to: 'running' });
    expect(decideRunTransition(run('awaiting-confirmation'), 'confirm', 'admin', at)).toMatchObject({
      ok: false,
      reason: 'forbidden',
      rule: 'B4',
    });
    for (const status of RUN_STATUSES.filter((s) => s !== 'awaiting-confirmation')) {
      expect(decideRunTransition(run(status), 'confirm', 'operator', at), status).toMatchObject({ ok: false, reason: 'conflict' });
    }
  });

  it('B4, O2: an operator cancels a run that has not finished, or a failed one; never a finished one', () => {
    for (const status of ['awaiting-confirmation', 'running', 'failed'] as const) {
      expect(decideRunTransition(run(status), 'cancel', 'operator', at), status).toMatchObject({ ok: true, to: 'cancelled' });
    }
    for (const status of ['succeeded', 'cancelled'] as const) {
      expect(decideRunTransition(run(status), 'cancel', 'operator', at), status).toMatchObject({ ok: false, reason: 'conflict' });
    }
    expect(decideRunTransition(run('running'), 'cancel', 'admin', at)).toMatchObject({ ok: false, reason: 'forbidden' });
  });

  it('B4: a reinstated contract cancels a run only while no batch has begun deleting', () => {
    expect(decideRunTransition(run('running'), 'reinstate', 'system', at)).toMatchObject({ ok: true, to: 'cancelled' });
    expect(decideRunTransition(run('running', { deletingStartedAt: '2026-11-20T08:00:00Z' }), 'reinstate', 'system', at)).toMatchObject({
      ok: false,
      reason: 'conflict',
      rule: 'B4',
    });
    expect(decideRunTransition(run('failed'), 'reinstate', 'system', at)).toMatchObject({ ok: false, reason: 'conflict' });
  });

  it('O2: only an operator resumes a failed run, within 7 days of its failure', () => {
    const failedAt = new Date(at - RESUME_WINDOW_MS).toISOString();
    expect(decideRunTransition(run('failed', { failedAt }), 'resume', 'operator', at)).toMatchObject({ ok: true, to: 'running' });
    expect(decideRunTransition(run('failed', { failedAt }), 'resume', 'operator', at + 1)).toMatchObject({
      ok: false,
      reason: 'conflict',
      rule: 'O2',
    });
    expect(decideRunTransition(run('failed', { failedAt }), 'resume', 'admin', at)).toMatchObject({
      ok: false,
      reason: 'forbidden',
      rule: 'O2',
    });
    expect(decideRunTransition(run('running'), 'resume', 'operator', at)).toMatchObject({ ok: false, reason: 'conflict' });
  });

  it('every transition leads to a known status from known statuses', () => {
    for (const [name, t] of Object.entries(RUN_TRANSITIONS)) {
      expect(RUN_STATUSES, name).toContain(t.to);
      for (const from of t.from) expect(RUN_STATUSES, name).toContain(from);
    }
  });
});
