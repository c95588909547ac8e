// @ts-check
// Loads data for a page, optionally polling (the live views), and keeps the last good answer
// while a reload is in flight so the page does not flicker.
import { useCallback, useEffect, useRef, useState } from './html.js';

/**
 * @template T
 * @typedef {{data: T | undefined, error: any, loading: boolean}} ResourceState
 */

/**
 * @template T
 * @param {() => Promise<T> | T} load
 * @param {unknown[]} deps reload when one of these changes
 * @param {{pollMs?: number}} [options] reload every `pollMs` while the tab is visible (0: never)
 * @returns {ResourceState<T> & {reload: () => Promise<void>}}
 */
export function useResource(load, deps, { pollMs } = {}) {
  const [state, setState] = useState(
    /** @type {ResourceState<T>} */ ({ data: undefined, error: undefined, loading: true }),
  );
  const loadRef = useRef(load);
  loadRef.current = load;
  const generation = useRef(0);

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const data = await loadRef.current();
      if (mine === generation.current) setState({ data, error: undefined, loading: false });
    } catch (error) {
      if (mine === generation.current) setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, deps);

  useEffect(() => {
    setState({ data: undefined, error: undefined, loading: true });
    reload();
    if (!pollMs) return undefined;
    const timer = setInterval(() => {
      if (document.visibilityState !== 'hidden') reload();
    }, pollMs);
    return () => clearInterval(timer);
  }, [reload, pollMs]);

  return { ...state, reload };
}
