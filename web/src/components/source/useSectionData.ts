// A section's data: first what the object's own reply carried, then its route after each write.
import { useCallback, useEffect, useRef, useState } from "react";
import { asError } from "../../api";

export type SectionData<T> = {
  value: T;
  /** The last reload's failure (the value stays the last good one). */
  error: Error | undefined;
  reload: () => Promise<void>;
};

export function useSectionData<T>(
  initial: T | undefined,
  load: () => Promise<T>,
  empty: T,
): SectionData<T> {
  const [value, setValue] = useState<T>(initial ?? empty);
  const [error, setError] = useState<Error>();
  const loader = useRef(load);
  useEffect(() => {
    loader.current = load;
  });

  const reload = useCallback(async () => {
    try {
      setValue(await loader.current());
      setError(undefined);
    } catch (failure) {
      setError(asError(failure));
    }
  }, []);

  // The object's reply may leave this part out (a candidate's has no follow-up requests).
  const missing = initial === undefined;
  useEffect(() => {
    if (missing) void reload();
  }, [missing, reload]);

  return { value, error, reload };
}
