import { deletedChatIds, planDeletion, planTransfer, type DeletionOptions } from '../domain/planner.js';
import type { Impact } from '../domain/impact.js';
import type { Organization, User } from '../domain/model.js';
import { readChatContents, readPlanSlice, type Locators } from '../store/slice.js';

/**
 * The one way a plan is made, for previews and executions alike (X1): read the slice, plan, and when the plan
 * deletes chats, read those chats' contents and plan again so their files and tasks are listed (F2).
 */
export async function computeTransferImpact(user: User, destination: Organization): Promise<{ impact: Impact; locators: Locators }> {
  const { slice, locators } = await readPlanSlice(user, [destination.id]);
  const first = planTransfer(slice, destination);
  const chats = deletedChatIds(first);
  if (chats.length === 0) return { impact: first, locators };
  const impact = planTransfer({ ...slice, deletedChatContents: await readChatContents(chats, locators) }, destination);
  return { impact, locators };
}

export async function computeDeletionImpact(user: User, options: DeletionOptions = {}): Promise<{ impact: Impact; locators: Locators }> {
  const { slice, locators } = await readPlanSlice(user);
  const first = planDeletion(slice, options);
  const chats = deletedChatIds(first);
  if (chats.length === 0) return { impact: first, locators };
  const impact = planDeletion({ ...slice, deletedChatContents: await readChatContents(chats, locators) }, options);
  return { impact, locators };
}
