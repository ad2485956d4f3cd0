/**
 * Permissions: the dashboard needs none (no camera, microphone, notifications, geolocation,
 * clipboard, MIDI, HID, serial, USB, fullscreen requests…). Every request and every check is
 * denied; desktop notifications come from main, not from the page.
 */
export function decidePermissionRequest(_permission: string): boolean {
  return false;
}

export function decidePermissionCheck(_permission: string): boolean {
  return false;
}

export function decideDevicePermission(): boolean {
  return false;
}
