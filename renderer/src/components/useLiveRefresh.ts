import { useEffect } from 'react';
import type { EventName } from '../../../runtime/api/contract.js';
import { useDashboard } from '../store/dashboard-store.js';
import { startSession } from '../store/session.js';

/** Runs `refresh` whenever the agent (re)connects and whenever it pushes `event`. */
export function useLiveRefresh(refresh: () => Promise<void>, event: EventName): boolean {
  const connected = useDashboard((s) => s.connection.phase === 'connected');
  useEffect(() => {
    if (!connected) return;
    void refresh();
    return startSession().client.on(event, () => void refresh());
  }, [connected, refresh, event]);
  return connected;
}
