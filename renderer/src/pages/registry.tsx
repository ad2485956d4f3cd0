/**
 * The dashboard's pages, in navigation order: the sidebar and the router both read this list.
 * To add a page, write it under renderer/src/pages/ and add ONE line below (see docs/dashboard.md).
 */
import type { ReactNode } from 'react';
import { Icon } from '../components/icons.js';
import { GpusPage } from './GpusPage.js';
import { SystemCheckPage } from './SystemCheckPage.js';
import { SchedulePage, ScheduleIcon } from './SchedulePage.js';
import { WalletPage } from './WalletPage.js';
import { EarningsPage } from './EarningsPage.js';
import { JobsPage } from './JobsPage.js';
import { ImagesIcon, ImagesPage } from './ImagesPage.js';
import { SettingsPage, SettingsIcon } from './SettingsPage.js';
import { MarketplacePage } from './MarketplacePage.js';

export interface PageDef {
  /** The route: `#/<id>`. */
  id: string;
  /** The navigation label and the header's title. */
  title: string;
  icon?: ReactNode;
  element: ReactNode;
}

export const pages: PageDef[] = [
  { id: 'gpus', title: 'GPUs', icon: <Icon name="gpu" />, element: <GpusPage /> },
  { id: 'jobs', title: 'Jobs', icon: <Icon name="gpu" />, element: <JobsPage /> },
  { id: 'images', title: 'Images', icon: <ImagesIcon />, element: <ImagesPage /> },
  { id: 'marketplace', title: 'Marketplace', icon: <Icon name="plug" />, element: <MarketplacePage /> },
  { id: 'schedule', title: 'Schedule', icon: <ScheduleIcon />, element: <SchedulePage /> },
  { id: 'earnings', title: 'Earnings', icon: <Icon name="refresh" />, element: <EarningsPage /> },
  { id: 'wallet', title: 'Wallet', icon: <Icon name="pass" />, element: <WalletPage /> },
  { id: 'system', title: 'System check', icon: <Icon name="check" />, element: <SystemCheckPage /> },
  { id: 'settings', title: 'Settings', icon: <SettingsIcon />, element: <SettingsPage /> },
];
