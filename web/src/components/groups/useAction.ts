// One write to the API from a control: busy while it runs, then its error or its confirmation.
import { messageOf } from "../../api";
import { useCallback, useRef, useState } from "react";

export type Action = {
  busy: boolean;
  error: string | undefined;
  notice: string | undefined;
  /** Runs `work`; on success shows `notice` (a string, or made from the result). */
  run: <T>(
    work: () => Promise<T>,
    notice?: string | ((result: T) => string),
  ) => Promise<T | undefined>;
  fail: (message: string) => void;
  clear: () => void;
};

export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const running = useRef(false);

  const run = useCallback(
    async <T>(work: () => Promise<T>, done?: string | ((result: T) => string)) => {
      if (running.current) return undefined;
      running.current = true;
      setBusy(true);
      setError(undefined);
      setNotice(undefined);
      try {
        const result = await work();
        setNotice(typeof done === "function" ? done(result) : done);
        return result;
      } catch (failure) {
        setError(messageOf(failure));
        return undefined;
      } finally {
        running.current = false;
        setBusy(false);
      }
    },
    [],
  );
  const fail = useCallback((message: string) => {
    setNotice(undefined);
    setError(message);
  }, []);
  const clear = useCallback(() => {
    setError(undefined);
    setNotice(undefined);
  }, []);
  return { busy, error, notice, run, fail, clear };
}
