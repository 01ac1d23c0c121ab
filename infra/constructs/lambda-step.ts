import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

/** Lambda service errors and throttling: retried with exponential backoff and full jitter. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** Transient store errors surfaced by a step: retried too. Steps are idempotent, so a retry never duplicates an effect. */
export const TRANSIENT_STORE_ERRORS = [
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'InternalServerError',
  'IncompleteBatch',
  'TimeoutError',
  'EventsNotPublished', // docs/EVENTS.md: the outbox is delivered by the retried step (functions/handlers/steps/step.ts)
];

export interface LambdaStepOptions {
  comment: string;
  payload?: sfn.TaskInput;
  resultPath?: string;
  /** How transient store errors are retried (default: from 1 s, at most 30 s apart). */
  storeRetry?: { interval: Duration; maxDelay: Duration };
}

/** How long past its function's own timeout a Task waits for it before failing with States.Timeout. */
export const TASK_TIMEOUT_MARGIN = Duration.seconds(10);

/**
 * A Task state that invokes a step function and hands on its result (payloadResponseOnly), with the two retries every
 * step has: Lambda's own errors 6 times, transient store errors 5 times, exponential backoff with full jitter. Its
 * TimeoutSeconds is the function's timeout and a margin: a Task states none of its own has none on AWS, but 60 s in
 * aws-local-stepfunctions (its DEFAULT_TIMEOUT_SECONDS), which failed the XL user's background plan locally.
 */
export function lambdaStep(
  scope: Construct,
  id: string,
  fn: lambda.IFunction & { readonly timeout?: Duration },
  options: LambdaStepOptions,
): tasks.LambdaInvoke {
  if (!fn.timeout) throw new Error(`${id}: its function states no timeout, so its Task state cannot state one`);
  const task = new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: fn,
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
    comment: options.comment,
    taskTimeout: sfn.Timeout.duration(fn.timeout.plus(TASK_TIMEOUT_MARGIN)),
    ...(options.payload ? { payload: options.payload } : {}),
    ...(options.resultPath ? { resultPath: options.resultPath } : {}),
  });
  const store = options.storeRetry ?? { interval: Duration.seconds(1), maxDelay: Duration.seconds(30) };
  const backoff = { backoffRate: 2, jitterStrategy: sfn.JitterType.FULL };
  task.addRetry({
    errors: LAMBDA_SERVICE_ERRORS,
    interval: Duration.seconds(1),
    maxAttempts: 6,
    maxDelay: Duration.seconds(30),
    ...backoff,
  });
  task.addRetry({ errors: TRANSIENT_STORE_ERRORS, interval: store.interval, maxAttempts: 5, maxDelay: store.maxDelay, ...backoff });
  return task;
}
