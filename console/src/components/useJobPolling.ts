import { useCallback, useEffect, useState } from "react";

/** While `busy(job)`, reads the job again every `ms` (each answer schedules the next read, so reads never
 * overlap); a failed read stops the polling and is returned, `retry` reads again. */
export function useJobPolling<T>(job: T | null, setJob: (job: T) => void, load: (job: T) => Promise<T>,
                                 busy: (job: T) => boolean, ms: number): { error: unknown; retry: () => void } {
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!job || !busy(job) || error) return;
    let live = true;
    const timer = setTimeout(() => {
      load(job).then((next) => { if (live) setJob(next); }, (err) => { if (live) setError(err); });
    }, ms);
    return () => { live = false; clearTimeout(timer); };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [job, error, tick]);
  const retry = useCallback(() => { setError(null); setTick((n) => n + 1); }, []);
  return { error, retry };
}
