/**
 * The Images page: the images Offshift pulled for jobs, on the engine's disk against the budget
 * and the floor kept free; downloads in progress; pinning; removing unused images; the budget
 * settings. Fed by images.list, polled every few seconds while the page is visible, and by
 * `job.progress` for the downloads between polls (useImages.ts).
 */
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Icon } from '../components/icons.js';
import { withLiveProgress } from '../lib/images.js';
import { ImagesDiskBar } from './ImagesDiskBar.js';
import { ImagesList } from './ImagesList.js';
import { ImagesPulls } from './ImagesPulls.js';
import { ImagesSettings } from './ImagesSettings.js';
import { useImages } from './useImages.js';
import './images.css';

export { ImagesIcon } from './ImagesIcon.js';

/** Why Offshift cannot manage its images now (the engine, its disk), from the agent. */
function ImagesProblem({ problem }: { problem: string }) {
  return (
    <div className="banner banner-warn" role="status" data-testid="images-problem">
      <Icon name="warn" />
      <div className="banner-text">
        <strong>Offshift cannot manage its images now</strong>
        <span>
          {problem} Jobs that need a download wait until this is fixed; this page follows by itself. The <a href="#/system">System check</a> says more.
        </span>
      </div>
    </div>
  );
}

export function ImagesPage() {
  const { view, error, live, now, pin, prune, save } = useImages();

  if (!view) {
    return (
      <div className="page images-page">
        {error ? <ErrorBanner title={error.title} text={error.text} testId="images-error" /> : <div className="card skeleton">Asking the agent about its images…</div>}
      </div>
    );
  }
  const pulls = withLiveProgress(view.pulls, live);
  return (
    <div className="page images-page" data-testid="images-page">
      {view.problem ? <ImagesProblem problem={view.problem} /> : null}
      {error ? <ErrorBanner title={error.title} text={error.text} testId="images-error" /> : null}
      <ImagesDiskBar view={view} />
      <ImagesPulls pulls={pulls} now={now} />
      <ImagesList view={view} pulling={new Set(pulls.map((p) => p.ref))} now={now} pin={pin} prune={prune} />
      <ImagesSettings view={view} save={save} />
    </div>
  );
}
