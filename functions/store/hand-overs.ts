import { keys } from './keys.js';
import type { Item } from './records.js';
import { getItem, tableName } from './table.js';

/**
 * F1, F3: whether the table holds every owned file's record of its hand-over (keys.ts `handedOver`). World load and
 * the migration of a table from before GSI3 (`npm run world -- migrate`, docs/deploy.md) write the mark once it does;
 * until then no plan is made and no organization's files are looked for, since a plan would take a file another
 * organization owns for its uploader's own (data the rules keep, deleted). Known per table, once, in each process.
 */
const known = new Set<string>();

export async function assertHandOverRecordsInPlace(): Promise<void> {
  const table = tableName();
  if (known.has(table)) return;
  if (!(await getItem(keys.handOverRecordsMark))) {
    throw new Error(
      `table ${table} does not hold the records of its files' hand-overs yet (F1, F3): run \`npm run world -- migrate --stack NAME\` once (docs/deploy.md); nothing was planned or changed`,
    );
  }
  known.add(table);
}

/** The mark (written last: the records are in place). */
export const handOverRecordsMarkItem = (): Item => ({ ...keys.handOverRecordsMark, type: 'schema', handOverRecords: true });

/** This process wrote the mark itself. */
export const handOverRecordsWritten = (): void => void known.add(tableName());
