import { requireEnvAtColdStart } from '../../shared/config.js';
import * as z from 'zod/mini';
import { planSlice } from '../../services/sliced-planning.js';
import { NonEmpty, step } from './step.js';

// at cold start, every variable this function is given and reads (test/infra/cold-start.test.ts)
requireEnvAtColdStart('TABLE_NAME');

const Input = z.object({ planId: NonEmpty, slice: z.int().check(z.minimum(0)) });

/** PlanSlice (a child of the planning workflow's Map): one slice of the user's chats planned, its entries stored. */
export const handler = step('PlanSlice', Input, async (input) => {
  await planSlice(input.planId, input.slice);
  return { slice: input.slice };
});
