import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { conditionFailed } from './conditions.js';
import { transactWrite } from './batch.js';
import { ddb } from './clients.js';
import { keyComponent, keys } from './keys.js';
import { getItem, tableName } from './table.js';
import { now } from '../shared/clock.js';

/**
 * SCIM bearer tokens (README "SCIM"): one organization's each, for the `/scim/v2` routes only (scope `scim`). The
 * secret is shown once, at creation; only its SHA-256 is stored, under which the token is looked up:
 *
 * | item | PK | SK |
 * |---|---|---|
 * | the token, by its hash | `SCIMTOKEN#{sha256 hex}` | `TOKEN` |
 * | the organization's list of its tokens | `SCIMTOKENS#{org}` | `SCIMTOKEN#{tokenId}` |
 * | the organization's SCIM calls (X2) | `SCIMAUDIT#{org}` | `AUDIT#{at}#{rand}` |
 */
export const SCIM_SCOPE = 'scim';

export interface ScimToken {
  id: string;
  organizationId: string;
  scope: typeof SCIM_SCOPE;
  /** The administrator who created it: SCIM requests act with that administrator's authority while it has it. */
  createdBy: string;
  createdAt: string;
  revokedAt?: string;
  revokedBy?: string;
}

export const hashToken = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

const byHash = (hash: string) => ({ PK: `SCIMTOKEN#${hash}`, SK: 'TOKEN' });
const inOrg = (org: string, id: string) => ({ PK: `SCIMTOKENS#${keyComponent(org)}`, SK: `SCIMTOKEN#${id}` });
const auditPK = (org: string) => `SCIMAUDIT#${keyComponent(org)}`;

const strip = ({ PK, SK, type, hash, ...rest }: Record<string, any>) => rest as ScimToken;

/** A new token: the secret (`scim_` and 32 random bytes, base64url) is returned here and never again. */
export async function createScimToken(organizationId: string, createdBy: string): Promise<{ token: ScimToken; secret: string }> {
  const secret = `scim_${randomBytes(32).toString('base64url')}`;
  const hash = hashToken(secret);
  const token: ScimToken = { id: `scim-${randomUUID()}`, organizationId, scope: SCIM_SCOPE, createdBy, createdAt: now() };
  await transactWrite([
    {
      Put: {
        TableName: tableName(),
        Item: { ...byHash(hash), type: 'scim-token', hash, ...token },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    },
    { Put: { TableName: tableName(), Item: { ...inOrg(organizationId, token.id), type: 'scim-token-index', hash, ...token } } },
  ]);
  return { token, secret };
}

/** The token a presented secret is, or undefined (unknown). A revoked token is returned with `revokedAt`. */
export async function findScimToken(secret: string): Promise<ScimToken | undefined> {
  const item = await getItem(byHash(hashToken(secret)));
  return item && item.type === 'scim-token' ? strip(item) : undefined;
}

/** The organization's tokens, newest first (no secrets, no hashes). */
export async function listScimTokens(organizationId: string): Promise<ScimToken[]> {
  const out = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
      ExpressionAttributeValues: { ':pk': inOrg(organizationId, '').PK, ':p': 'SCIMTOKEN#' },
    }),
  );
  return (out.Items ?? []).map(strip).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** Revokes the token (both its items, at once); false when the organization has no such token. Revoking twice keeps the first. */
export async function revokeScimToken(organizationId: string, tokenId: string, by: string): Promise<ScimToken | undefined> {
  const index = await getItem(inOrg(organizationId, tokenId));
  if (!index) return undefined;
  if (index.revokedAt) return strip(index);
  const at = now();
  const update = (key: { PK: string; SK: string }) => ({
    Update: {
      TableName: tableName(),
      Key: key,
      UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at), revokedBy = if_not_exists(revokedBy, :by)',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':at': at, ':by': by },
    },
  });
  try {
    await transactWrite([update(inOrg(organizationId, tokenId)), update(byHash(index.hash))]);
  } catch (error) {
    if (!conditionFailed(error)) throw error;
  }
  return strip((await getItem(inOrg(organizationId, tokenId)))!);
}

/** X2: one entry per SCIM call (kept 400 days). */
export async function auditScimCall(organizationId: string, entry: Record<string, unknown>): Promise<void> {
  const at = now();
  await ddb.send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        PK: auditPK(organizationId),
        SK: `AUDIT#${at}#${randomUUID().slice(0, 8)}`,
        type: 'scim-audit',
        at,
        organizationId,
        expiresAt: Math.floor(Date.parse(at) / 1000) + 400 * 24 * 3600,
        ...entry,
      },
    }),
  );
}

/** The organization's SCIM calls, newest first, at most `limit`. */
export async function readScimAudit(organizationId: string, limit = 100): Promise<Record<string, unknown>[]> {
  const out = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
      ExpressionAttributeValues: { ':pk': auditPK(organizationId), ':p': 'AUDIT#' },
      ScanIndexForward: false,
      Limit: limit,
    }),
  );
  return (out.Items ?? []).map(({ PK, SK, type, expiresAt, ...rest }) => rest);
}

/** The user's lock: the operation that holds it (services/scim.ts finds the scheduled deletion to undo). */
export async function lockedBy(userId: string): Promise<string | undefined> {
  const item = await getItem(keys.lock(userId));
  return item?.operationId as string | undefined;
}
