import { z } from 'zod';

/**
 * The desktop app's section of the settings file (`{ "desktop": {...} }`): open at login,
 * which notifications to show, the update channel, whether to remember the wallet password in
 * the OS keychain. The agent stores it (so the Settings page works the same in the window and
 * in a browser, and an admin can lock it in the policy file); the desktop app applies it.
 * Pure zod (the renderer type-checks against it).
 */
export const notificationKinds = ['paused', 'resumed', 'jobFinished', 'vouchersRedeemed', 'failures', 'gpuOutOfService', 'walletLocked'] as const;
export type NotificationKind = (typeof notificationKinds)[number];

const notificationsShape = Object.fromEntries(notificationKinds.map((k) => [k, z.boolean()])) as Record<NotificationKind, z.ZodBoolean>;
export const notificationSettingsSchema = z.object(notificationsShape).strict();
export type NotificationSettings = z.infer<typeof notificationSettingsSchema>;

export const desktopSettingsSchema = z
  .object({
    /** Start Offshift when the owner logs in, hidden in the tray. */
    openAtLogin: z.boolean(),
    /** Closing the window keeps Offshift running in the tray (Quit quits). */
    closeToTray: z.boolean(),
    notifications: notificationSettingsSchema,
    /** Which releases the packaged app updates to. */
    updateChannel: z.enum(['stable', 'beta']),
    /** Keep the wallet password in the OS keychain (Electron safeStorage) to unlock at start. */
    rememberWalletPassword: z.boolean(),
  })
  .strict();
export type DesktopSettings = z.infer<typeof desktopSettingsSchema>;

export const desktopPatchSchema = desktopSettingsSchema
  .extend({ notifications: notificationSettingsSchema.partial().strict() })
  .partial()
  .strict();
export type DesktopPatch = z.infer<typeof desktopPatchSchema>;

export const defaultDesktopSettings: DesktopSettings = {
  openAtLogin: false,
  closeToTray: true,
  notifications: { paused: true, resumed: true, jobFinished: true, vouchersRedeemed: true, failures: true, gpuOutOfService: true, walletLocked: true },
  updateChannel: 'stable',
  rememberWalletPassword: false,
};

/** What the desktop app reports about itself, for the Settings page (null: no desktop app, e.g. headless). */
export const desktopHostSchema = z.object({
  /** `embedded`: the app hosts the agent; `service`: the agent is the system service. */
  mode: z.enum(['embedded', 'service']),
  /** Whether the OS keychain can hold the password, and why not. */
  keychain: z.object({ available: z.boolean(), backend: z.string().max(100), reason: z.string().max(1000).nullable() }).strict(),
  passwordRemembered: z.boolean(),
  /** Update status, e.g. "up to date", "update 0.2.0 ready: installs when you quit", or why updates are off. */
  update: z.string().max(1000),
  /** Open at login as the OS reports it (null where the platform cannot say). */
  openAtLogin: z.boolean().nullable(),
}).strict();
export type DesktopHost = z.infer<typeof desktopHostSchema>;

export const desktopViewSchema = z.object({
  effective: desktopSettingsSchema,
  /** Dotted paths the administrator locked (e.g. `desktop.updateChannel`). */
  locked: z.array(z.string()),
  user: desktopPatchSchema,
  /** Null when no desktop app is attached (a headless agent in a browser). */
  host: desktopHostSchema.nullable(),
});
export type DesktopView = z.infer<typeof desktopViewSchema>;

/** `desktop.settings`: an empty input reads; any subset changes. */
export const desktopSettingsInput = desktopPatchSchema;
