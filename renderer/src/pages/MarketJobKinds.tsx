/** The Marketplace page's note on which jobs come here: GPU jobs where the GPU and Docker allow them, else CPU jobs only, and why. */
import { Icon } from '../components/icons.js';
import { jobKindsNote } from '../lib/job-kinds.js';
import { useDashboard } from '../store/dashboard-store.js';

export function MarketJobKinds({ demoJobs = null }: { demoJobs?: { gpu: boolean; reason: string } | null }) {
  const gpus = useDashboard((s) => s.gpus);
  const check = useDashboard((s) => s.systemCheck);
  const note = jobKindsNote(gpus, check, demoJobs);
  if (!note) return null;
  return (
    <div className={`card market-job-kinds kinds-${note.kind}`} data-testid="market-job-kinds" data-kind={note.kind}>
      <Icon name={note.kind === 'gpu' ? 'pass' : note.kind === 'cpu' ? 'warn' : 'check'} />
      <span>{note.text}</span>
      {note.kind === 'gpu' ? null : (
        <a className="small" href="#/system">
          System check
        </a>
      )}
    </div>
  );
}
