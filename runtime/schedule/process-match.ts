/** Matching process names against the exclusive-apps list and the compositor list. Pure. */

const memo = new Map<string, string>();

/** Base name, lower case, without a folder (either slash) or a trailing `.exe`. */
export function normalizeProcessName(name: string): string {
  const hit = memo.get(name);
  if (hit !== undefined) return hit;
  const base = name.trim().split(/[\\/]/).pop() ?? '';
  const out = base.toLowerCase().replace(/\.exe$/, '');
  // Called for every running process on every tick: remember (bounded) what was seen.
  if (memo.size > 4096) memo.clear();
  memo.set(name, out);
  return out;
}

/** Desktop compositors and display servers: they always hold some GPU memory, never count. */
export const COMPOSITORS: ReadonlySet<string> = new Set(['xorg', 'xwayland', 'gnome-shell', 'kwin_wayland', 'kwin_x11', 'dwm'].map(normalizeProcessName));

export function isCompositor(name: string): boolean {
  const n = normalizeProcessName(name);
  // Linux `comm` names are cut to 15 characters; nvidia-smi reports full paths such as /usr/lib/xorg/Xorg.
  return COMPOSITORS.has(n);
}

/** The first running process that matches an exclusive app, as the user wrote the app's name. */
export function findExclusiveApp(
  running: readonly string[],
  exclusiveApps: readonly string[],
): { app: string; process: string } | null {
  if (exclusiveApps.length === 0 || running.length === 0) return null;
  const wanted = new Map<string, string>();
  for (const app of exclusiveApps) {
    const n = normalizeProcessName(app);
    if (n) wanted.set(n, app);
  }
  for (const proc of running) {
    const n = normalizeProcessName(proc);
    const app = wanted.get(n) ?? (n.length === 15 ? prefixMatch(n, wanted) : undefined);
    if (app) return { app, process: proc.split(/[\\/]/).pop() ?? proc };
  }
  return null;
}

/** Linux cuts `comm` to 15 bytes: "counterstrike-l" should still match "counterstrike-launcher". */
function prefixMatch(truncated: string, wanted: Map<string, string>): string | undefined {
  for (const [n, app] of wanted) if (n.length > 15 && n.startsWith(truncated)) return app;
  return undefined;
}
