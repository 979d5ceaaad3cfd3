// Loading a resource in a page: its value, error and a reload.
import { asError } from "./api";
import { useCallback, useEffect, useRef, useState, type DependencyList } from "react";

export type Loaded<T> = {
  value: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
};

export function useApi<T>(load: () => Promise<T>, deps: DependencyList): Loaded<T> {
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);

  useEffect(() => {
    const run = ++latest.current;
    setLoading(true);
    load().then(
      (result) => {
        if (run !== latest.current) return;
        setValue(result);
        setError(undefined);
        setLoading(false);
      },
      (failure: unknown) => {
        if (run !== latest.current) return;
        setError(asError(failure));
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, generation]);

  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { value, error, loading, reload };
}
