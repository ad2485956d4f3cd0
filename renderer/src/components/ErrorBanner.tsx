import { Icon } from './icons.js';

/** A red banner over a page: what failed (`title`, optional) and the agent's message. */
export function ErrorBanner({ title, text, testId }: { title?: string; text: string; testId?: string }) {
  return (
    <div className="banner banner-fail" role="alert" data-testid={testId}>
      <Icon name="fail" />
      <div className="banner-text">
        {title ? <strong>{title}</strong> : null}
        <span>{text}</span>
      </div>
    </div>
  );
}
