#!/usr/bin/env node
// Draws Offshift's app icon and tray images as PNGs (no dependencies): `node resources/icons/generate.js`.
// The app icon: a ring (the "O") with a notch, on a dark rounded square. Tray: the same ring,
// coloured by the agent's state (the tray issue shows the state with these).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
function png(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

/** Renders shape(x, y) → [r,g,b,a] in unit coordinates, 4×4 supersampled. */
function render(size, shape) {
  const out = Buffer.alloc(size * size * 4);
  const S = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const [pr, pg, pb, pa] = shape((x + (sx + 0.5) / S) / size, (y + (sy + 0.5) / S) / size);
          r += pr * pa; g += pg * pa; b += pb * pa; a += pa;
        }
      }
      const i = (y * size + x) * 4;
      out[i] = a ? Math.round(r / a) : 0;
      out[i + 1] = a ? Math.round(g / a) : 0;
      out[i + 2] = a ? Math.round(b / a) : 0;
      out[i + 3] = Math.round((a / (S * S)) * 255);
    }
  }
  return out;
}

const hex = (h) => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];

function ring(x, y, outer, inner) {
  const d = Math.hypot(x - 0.5, y - 0.5);
  if (d > outer || d < inner) return false;
  // A notch at the upper right: the "shift".
  const angle = Math.atan2(0.5 - y, x - 0.5);
  return !(angle > 0.35 && angle < 0.95);
}

function appIcon(x, y) {
  const m = 0.06, rad = 0.2;
  const qx = Math.max(Math.abs(x - 0.5) - (0.5 - m - rad), 0);
  const qy = Math.max(Math.abs(y - 0.5) - (0.5 - m - rad), 0);
  if (Math.hypot(qx, qy) > rad) return [0, 0, 0, 0];
  if (ring(x, y, 0.32, 0.2)) return [...hex('#3ddc97'), 1];
  if (Math.hypot(x - 0.72, y - 0.28) < 0.06) return [...hex('#3ddc97'), 1];
  return [...hex('#141821'), 1];
}

const STATES = { available: '#3ddc97', working: '#4da3ff', paused: '#f5b942', error: '#ff5c5c', starting: '#9aa4b2' };
const tray = (color) => (x, y) => (ring(x, y, 0.46, 0.28) ? [...hex(color), 1] : [0, 0, 0, 0]);

const write = (file, buf) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, buf);
};
write(path.join(here, 'icon.png'), png(512, render(512, appIcon)));
for (const [state, color] of Object.entries(STATES)) {
  write(path.join(here, '..', 'tray', `${state}.png`), png(16, render(16, tray(color))));
  write(path.join(here, '..', 'tray', `${state}@2x.png`), png(32, render(32, tray(color))));
}
console.log('wrote resources/icons/icon.png and resources/tray/*.png');
