import { z } from 'zod';
import { deleteMember, failRun, finishRun, readMembers, recordMemberFailed, startRun, sweepChats } from '../../services/billing.js';
import { step } from '../steps/step.js';

const Run = z.object({ runId: z.string().min(1), organizationId: z.string().min(1) });
const Cursor = z.object({ cursor: z.string().nullable().optional() });
const StepError = z.object({ Error: z.string().optional(), Cause: z.string().optional() });

/** The bulk cancellation run's steps (B1, F3); one handler module per function, see the files beside this one. */
export const handlers = {
  StartRun: step('StartRun', Run, async ({ runId, organizationId }) => ({ runId, organizationId, ...(await startRun(runId, organizationId)), page: { cursor: null } })),
  ReadMembers: step('ReadMembers', Run.merge(Cursor), ({ organizationId, cursor }) => readMembers(organizationId, cursor)),
  DeleteMember: step('DeleteMember', Run.extend({ userId: z.string().min(1) }), ({ runId, organizationId, userId }) => deleteMember(runId, organizationId, userId)),
  RecordMemberFailed: step('RecordMemberFailed', z.object({ runId: z.string(), userId: z.string(), error: StepError }), async ({ runId, userId, error }) => {
    await recordMemberFailed(runId, userId, error);
    return { userId, result: 'failed' };
  }),
  SweepChats: step('SweepChats', z.object({ runId: z.string().min(1) }).merge(Cursor), ({ runId, cursor }) => sweepChats(runId, cursor)),
  FinishRun: step('FinishRun', z.object({ runId: z.string().min(1) }), ({ runId }) => finishRun(runId)),
  FailRun: step('FailRun', z.object({ runId: z.string().min(1), error: StepError }), async ({ runId, error }) => {
    await failRun(runId, error);
    return { runId, status: 'failed' };
  }),
};
