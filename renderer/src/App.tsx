/** The app shell: sidebar navigation, the state header, the connection banner and the page. */
import { useMemo } from 'react';
import { ConnectionBanner } from './components/ConnectionBanner.js';
import { Header } from './components/Header.js';
import { Notices } from './components/Notices.js';
import { Sidebar } from './components/Sidebar.js';
import { useHashRoute } from './components/useHashRoute.js';
import { pages } from './pages/registry.js';
import { useDashboard } from './store/dashboard-store.js';

export function App() {
  const ids = useMemo(() => pages.map((p) => p.id), []);
  const route = useHashRoute(ids, ids[0] ?? '');
  const page = pages.find((p) => p.id === route) ?? pages[0];
  // Without a token the agent accepts there is nothing to show but how to get one.
  const noToken = useDashboard((s) => s.connection.phase === 'no-token' || s.connection.phase === 'rejected');

  return (
    <div className="shell">
      <Sidebar pages={pages} current={route} />
      <div className="main">
        <Header title={page?.title ?? 'Offshift'} />
        <main className="content" data-testid={`page-${route}`}>
          <ConnectionBanner />
          {noToken ? null : page?.element}
        </main>
      </div>
      <Notices />
    </div>
  );
}
