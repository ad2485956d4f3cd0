/** The Wallet page's banner: an error (`fail`) or a warning (`warn`) in a sentence. */
export function Banner({ text, tone = 'fail' }: { text: string; tone?: 'fail' | 'warn' }) {
  return (
    <div className={`banner banner-${tone}`} role="alert">
      <div className="banner-text">
        <span>{text}</span>
      </div>
    </div>
  );
}
