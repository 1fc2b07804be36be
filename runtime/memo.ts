/**
 * Memoizes an async start-up step (load a key, open a vault) but forgets a failure, so the
 * next call tries again and reports the problem afresh (e.g. a key file fixed on disk)
 * instead of replaying a stale error forever.
 */
export function memoizeSuccess<T>(start: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (!pending) {
      const attempt = start();
      pending = attempt;
      attempt.catch(() => {
        if (pending === attempt) pending = undefined;
      });
    }
    return pending;
  };
}
