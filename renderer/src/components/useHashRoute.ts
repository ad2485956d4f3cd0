import { useEffect, useState } from 'react';
import { routeFromHash } from '../lib/route.js';

/** The current page id from `location.hash`, following back/forward and link clicks. */
export function useHashRoute(known: readonly string[], fallback: string): string {
  const [route, setRoute] = useState(() => routeFromHash(location.hash, known, fallback));
  useEffect(() => {
    const update = () => setRoute(routeFromHash(location.hash, known, fallback));
    window.addEventListener('hashchange', update);
    update();
    return () => window.removeEventListener('hashchange', update);
  }, [known, fallback]);
  return route;
}
