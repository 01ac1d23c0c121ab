import * as z from 'zod/mini';
import { deleteMember, failRun, finishRun, readMembers, recordMemberFailed, startRun, sweepChats } from '../../services/billing.js';
import { NonEmpty, step, StepError } from '../steps/step.js';

const Run = z.object({ runId: NonEmpty, organizationId: NonEmpty });
const RunOnly = z.object({ runId: NonEmpty });
const Cursor = { cursor: z.optional(z.nullable(z.string())) };

/** The bulk cancellation run's steps (B1, F3); one handler module per function, see the files beside this one. */
export const handlers = {
  StartRun: step('StartRun', Run, async ({ runId, organizationId }) => ({ runId, organizationId, ...(await startRun(runId, organizationId)), page: { cursor: null } })),
  ReadMembers: step('ReadMembers', z.extend(Run, Cursor), ({ organizationId, cursor }) => readMembers(organizationId, cursor)),
  DeleteMember: step('DeleteMember', z.extend(Run, { userId: NonEmpty }), ({ runId, organizationId, userId }) => deleteMember(runId, organizationId, userId)),
  RecordMemberFailed: step('RecordMemberFailed', z.object({ runId: NonEmpty, userId: NonEmpty, error: StepError }), async ({ runId, userId, error }) => {
    await recordMemberFailed(runId, userId, error);
    return { userId, result: 'failed' };
  }),
  SweepChats: step('SweepChats', z.extend(RunOnly, Cursor), ({ runId, cursor }) => sweepChats(runId, cursor)),
  FinishRun: step('FinishRun', RunOnly, ({ runId }) => finishRun(runId)),
  FailRun: step('FailRun', z.extend(RunOnly, { error: StepError }), async ({ runId, error }) => {
    await failRun(runId, error);
    return { runId, status: 'failed' };
  }),
};
