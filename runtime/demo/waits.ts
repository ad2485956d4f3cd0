/** Waits with an end: each settles at the latest when its time is up or its signal aborts. */

export class Stopped extends Error {
  constructor() {
    super('stopped');
  }
}

/** `promise`, or a rejection with `message` after `ms`, or with `Stopped` as soon as `signal` aborts. */
export function bounded<T>(promise: Promise<T>, signal: AbortSignal, ms: number, message: string): Promise<T> {
  if (signal.aborted) return Promise.reject(new Stopped());
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => (done(), reject(new Stopped()));
    const timer = setTimeout(() => (done(), reject(new Error(message))), ms);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => (done(), resolve(value)),
      (error: unknown) => (done(), reject(error as Error)),
    );
  });
}

/** Sleeps `ms`, or less if `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = () => (clearTimeout(timer), resolve());
    const timer = setTimeout(() => (signal.removeEventListener('abort', onAbort), resolve()), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
