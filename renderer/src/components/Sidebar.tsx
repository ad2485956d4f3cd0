/** The app shell's navigation: one entry per page of the registry. */
import type { PageDef } from '../pages/registry.js';
import { hashFor } from '../lib/route.js';
import { useDashboard } from '../store/dashboard-store.js';

export function Sidebar({ pages, current }: { pages: readonly PageDef[]; current: string }) {
  const info = useDashboard((s) => s.info);
  const phase = useDashboard((s) => s.connection.phase);
  const transport = useDashboard((s) => ('transport' in s.connection ? s.connection.transport : null));
  const connectionText =
    phase === 'connected' ? (transport === 'electron' ? 'Connected' : 'Connected to the local agent') : phase === 'connecting' ? 'Connecting…' : phase === 'no-token' ? 'No token' : phase === 'rejected' ? 'Token refused' : 'Disconnected';

  return (
    <nav className="sidebar" aria-label="Main">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true" />
        <span className="brand-name">Offshift</span>
      </div>
      <ul className="nav-list">
        {pages.map((page) => (
          <li key={page.id}>
            <a href={hashFor(page.id)} className={`nav-link${page.id === current ? ' active' : ''}`} aria-current={page.id === current ? 'page' : undefined} data-testid={`nav-${page.id}`}>
              <span className="nav-icon">{page.icon}</span>
              {page.title}
            </a>
          </li>
        ))}
      </ul>
      <div className="sidebar-foot">
        <span className={`conn-dot conn-${phase}`} aria-hidden="true" />
        <span>{connectionText}</span>
        {info ? <span className="sidebar-version">Agent {info.version} · {info.platform}</span> : null}
      </div>
    </nav>
  );
}
