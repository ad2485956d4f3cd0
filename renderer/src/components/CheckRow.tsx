/** One item of a check (the system check, the self-test): its status, title, sentence and details. */
import type { CheckItem } from '../../../runtime/system/schema.js';
import { Icon } from './icons.js';

const STATUS_WORDS = { pass: 'Pass', warn: 'Warning', fail: 'Fail' } as const;

export function CheckRow({ item }: { item: CheckItem }) {
  return (
    <li className={`card check-item check-${item.status}`} data-testid="check-item" data-status={item.status} data-check-id={item.id}>
      <span className={`check-badge badge-${item.status}`} title={STATUS_WORDS[item.status]}>
        <Icon name={item.status} size={16} />
        <span className="sr-only">{STATUS_WORDS[item.status]}</span>
      </span>
      <div className="check-body">
        <div className="check-title">
          {item.title}
          <span className={`status-word status-${item.status}`}>{STATUS_WORDS[item.status]}</span>
        </div>
        <p className="check-message">{item.message}</p>
        {item.detail ? (
          <details className="check-detail">
            <summary>Details</summary>
            <pre>{item.detail}</pre>
          </details>
        ) : null}
      </div>
    </li>
  );
}
