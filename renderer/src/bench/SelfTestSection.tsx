/** "Ready to earn" on the System check page: the benchmark self-test, each item with a verdict and what to do. */
import { useCallback, useState } from 'react';
import type { SelfTest } from '../../../runtime/bench/schema.js';
import { ApiError } from '../../../runtime/api/client.js';
import { CheckRow } from '../components/CheckRow.js';
import { Icon } from '../components/icons.js';
import { useLiveRefresh } from '../components/useLiveRefresh.js';
import { startSession } from '../store/session.js';
import './bench.css';

export function SelfTestSection() {
  const [result, setResult] = useState<SelfTest | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async () => {
    setRunning(true);
    setError(null);
    try {
      setResult(await startSession().client.call('bench.selfTest'));
    } catch (e) {
      setError(e instanceof ApiError || e instanceof Error ? e.message : String(e));
    } finally {
      setRunning(false);
    }
  }, []);
  // Once on connect, and again after every benchmark (PCIe and the spec ratio come from it).
  const connected = useLiveRefresh(run, 'bench.progress');

  return (
    <section className="self-test" data-testid="self-test">
      <div className="toolbar">
        <div>
          <h2>Ready to earn</h2>
          <p className="muted" data-testid="self-test-verdict">
            {result ? (result.ready ? 'Ready: nothing fails.' : notReady(result.items.filter((i) => i.status === 'fail').length)) : running ? 'Testing…' : 'Not tested yet.'}
          </p>
        </div>
        <button type="button" className="button" onClick={() => void run()} disabled={running || !connected} data-testid="self-test-run">
          <Icon name="refresh" size={16} className={running ? 'spin' : undefined} />
          {running ? 'Testing…' : 'Run the self-test'}
        </button>
      </div>
      {error ? (
        <p className="bench-error" role="alert">
          {error}
        </p>
      ) : null}
      {result ? (
        <ul className="check-list">
          {result.items.map((item) => (
            <CheckRow key={item.id} item={item} />
          ))}
        </ul>
      ) : null}
    </section>
  );
}

const notReady = (fails: number) => `Not ready: ${fails === 1 ? 'one item' : `${fails} items`} to fix.`;
