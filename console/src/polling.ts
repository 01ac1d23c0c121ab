import { useEffect } from 'preact/hooks';

/**
 * Reads now, then again after the delay `next` gives for what was read, until it gives undefined (an end state) or
 * the screen closes; errors go to `onError` and stop the polling. Restarts when `deps` change.
 */
export function usePolling<T>(read: () => Promise<T>, use: (value: T) => void, next: (value: T) => number | undefined, onError: (e: unknown) => void, deps: unknown[]): void {
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
