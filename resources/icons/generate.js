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

/**
 * Each state has its own glyph inside the ring (so the state reads without colour: macOS
 * template images are black and alpha only, and colour-blind owners): available, the plain
 * ring; working, a filled centre; paused, two bars; error, an exclamation mark; starting, a
 * dotted ring. Coloured images get a dark outline, so they read on light and dark panels alike.
 */
function glyph(state, x, y) {
  const dx = x - 0.5, dy = y - 0.5;
  if (state === 'working') return Math.hypot(dx, dy) < 0.16;
  if (state === 'paused') return Math.abs(dy) < 0.15 && ((dx > -0.13 && dx < -0.04) || (dx > 0.04 && dx < 0.13));
  if (state === 'error') return Math.abs(dx) < 0.05 && ((dy > -0.17 && dy < 0.04) || (dy > 0.09 && dy < 0.16));
  return false;
}
function shape(state, x, y) {
  if (glyph(state, x, y)) return true;
  if (!ring(x, y, 0.46, 0.3)) return false;
  if (state === 'starting') return Math.floor(((Math.atan2(y - 0.5, x - 0.5) + Math.PI) / (2 * Math.PI)) * 12) % 2 === 0;
  return true;
}
/** Inside `shape` grown by `w`: the outline. */
function near(state, x, y, w) {
  for (const [ox, oy] of [[w, 0], [-w, 0], [0, w], [0, -w], [w * 0.7, w * 0.7], [-w * 0.7, w * 0.7], [w * 0.7, -w * 0.7], [-w * 0.7, -w * 0.7]]) if (shape(state, x + ox, y + oy)) return true;
  return false;
}
const coloured = (state, color, size) => (x, y) => (shape(state, x, y) ? [...hex(color), 1] : near(state, x, y, 1.2 / size) ? [20, 24, 33, 0.85] : [0, 0, 0, 0]);
const template = (state) => (x, y) => (shape(state, x, y) ? [0, 0, 0, 1] : [0, 0, 0, 0]);

const write = (file, buf) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, buf);
};
write(path.join(here, 'icon.png'), png(512, render(512, appIcon)));
for (const [state, color] of Object.entries(STATES)) {
  for (const [suffix, size] of [['', 16], ['@2x', 32]]) {
    write(path.join(here, '..', 'tray', `${state}${suffix}.png`), png(size, render(size, coloured(state, color, size))));
    // macOS: a name ending in "Template" makes a template image (the menu bar tints it).
    write(path.join(here, '..', 'tray', `${state}Template${suffix}.png`), png(size, render(size, template(state))));
  }
}
console.log('wrote resources/icons/icon.png and resources/tray/*.png');
