import { describe, expect, it } from 'vitest';
import { LocalLambda } from '../../local/functions.js';
import { LocalStepFunctions, PAYLOAD_LIMIT_BYTES } from '../../local/sfn-service.js';

// The embedded stack's Step Functions enforces the payload quota as AWS does (local/sfn-service.ts): a state's or a
// task's input or output past 256 KiB fails the execution with States.DataLimitExceeded, which no Catch takes.
const fn = {
  logicalId: 'Payload',
  arn: 'arn:aws:lambda:us-east-1:000000000000:function:payload',
  entry: 'test/unit/fixtures/payload-handler.ts',
  environment: {},
  memorySize: 128,
  architecture: 'arm64',
};
const caught = (state: object) => ({
  StartAt: 'Work',
  States: {
    Work: { ...state, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }], End: true },
    Caught: { Type: 'Succeed' },
  },
});
const task = { Type: 'Task', Resource: fn.arn, Parameters: { 'bytes.$': '$.bytes' } };

async function run(definition: object, input: object) {
  const sfn = new LocalStepFunctions(new LocalLambda([fn]));
  const arn = 'arn:aws:states:us-east-1:000000000000:stateMachine:payload';
  sfn.register(arn, definition);
  const execution = sfn.startExecution(arn, 'e1', JSON.stringify(input));
  await execution.done;
  return { execution, sfn };
}

describe('local Step Functions: the 256 KiB payload quota', () => {
  it('a task answering under the quota succeeds, and its size is measured', async () => {
    const { execution, sfn } = await run(caught(task), { bytes: 200 * 1024 });
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!).blob.length).toBe(200 * 1024);
    expect(sfn.largestPayload.bytes).toBeGreaterThan(200 * 1024);
  });

  it('a task answering past the quota fails the execution with States.DataLimitExceeded, past a Catch of States.ALL', async () => {
    const { execution } = await run(caught(task), { bytes: PAYLOAD_LIMIT_BYTES });
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(execution.cause).toMatch(/Work output.*exceeding the maximum number of bytes/);
  });

  it('a state (not a task) whose output passes the quota fails the execution too', async () => {
    const big = { Type: 'Pass', Result: { blob: 'y'.repeat(PAYLOAD_LIMIT_BYTES) } };
    const parallel = { Type: 'Parallel', Branches: [{ StartAt: 'Big', States: { Big: { ...big, End: true } } }] };
    const { execution } = await run(caught(parallel), {});
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
  });
});
