import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * Reads now, then again after the delay `next` gives for what was read, until it gives undefined (an end state) or
 * the screen closes; errors go to `onError` and stop the polling. Restarts when `deps` change.
 */
export function usePolling<T>(
  read: () => Promise<T>,
  use: (value: T) => void,
  next: (value: T) => number | undefined,
  onError: (e: unknown) => void,
  deps: unknown[],
): void {
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const value = await read();
        if (stop) return;
        use(value);
        const delay = next(value);
        if (delay !== undefined) timer = setTimeout(poll, delay);
      } catch (e) {
        if (!stop) onError(e);
      }
    };
    void poll();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, deps);
}

/**
 * CONTRACT.md `planning`: a preview asked for (`ask`: `POST /previews`, or a first `GET /previews/{id}`); while it
 * answers 202 `planning` it is read again (`read`: `GET /previews/{id}`) every `everyMs` until its Impact is there,
 * or its refusal (found in the background: 422, 404, 409), which is answered as `error`. Nothing is asked without `ask`.
 */
export function usePlannedPreview<T extends { id?: string }>(
  ask: (() => Promise<T>) | undefined,
  read: (id: string) => Promise<T>,
  isPlanning: (answer: T) => boolean,
  deps: unknown[],
  everyMs = 1000,
): { answer?: T; planning: boolean; error?: unknown } {
  const [answer, setAnswer] = useState<T>();
  const [error, setError] = useState<unknown>();
  const pending = useRef<string | undefined>(undefined);
  // before the polling below: a new `ask` starts from nothing
  useEffect(() => {
    pending.current = undefined;
    setAnswer(undefined);
    setError(undefined);
  }, deps);
  usePolling(
    () => (pending.current ? read(pending.current) : ask ? ask() : Promise.resolve(undefined)),
    (a) => {
      setAnswer(a);
      pending.current = a && isPlanning(a) ? a.id : undefined;
    },
    (a) => (a && isPlanning(a) ? everyMs : undefined),
    setError,
    deps,
  );
  return { answer, planning: answer !== undefined && isPlanning(answer), error };
}
