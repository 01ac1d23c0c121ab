import type { Organization, User } from './model.js';

/**
 * T6: the individual exemptions in the destination. They are turned OFF, except that each stays ON where the
 * destination's switch would otherwise forbid it, "to avoid deleting data and contacts".
 * Reading: the seed's bullet wording contradicts its stated purpose; the purpose and the Japanese term decide.
 */
export function inheritedExemptions(destination: Organization): Pick<User, 'allowOutsideCommunication' | 'allowFileSharing'> {
  return {
    allowOutsideCommunication: destination.restrictOutsideCommunication,
    allowFileSharing: destination.disallowFileSharing,
  };
}
