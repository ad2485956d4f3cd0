/** Reads a PNG's chunks, checking the signature and each chunk's CRC-32: enough to say a file is a valid PNG. */
import zlib from 'node:zlib';

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

export interface PngInfo {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
  chunks: string[];
  /** The inflated image data (filter byte + RGB per row). */
  pixels: Buffer;
}

export function readPng(data: Buffer): PngInfo {
  if (!data.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG: bad signature');
  const chunks: string[] = [];
  const idat: Buffer[] = [];
  let width = 0;
  let height = 0;
  let bitDepth = 0;
  let colourType = 0;
  let at = 8;
  while (at < data.length) {
    if (at + 12 > data.length) throw new Error(`truncated chunk at byte ${at}`);
    const length = data.readUInt32BE(at);
    const type = data.toString('latin1', at + 4, at + 8);
    if (at + 12 + length > data.length) throw new Error(`chunk ${type} runs past the end`);
    const body = data.subarray(at + 8, at + 8 + length);
    const crc = data.readUInt32BE(at + 8 + length);
    if (zlib.crc32(data.subarray(at + 4, at + 8 + length)) !== crc) throw new Error(`chunk ${type}: bad CRC`);
    chunks.push(type);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      bitDepth = body[8]!;
      colourType = body[9]!;
    }
    if (type === 'IDAT') idat.push(body);
    at += 12 + length;
    if (type === 'IEND') break;
  }
  return { width, height, bitDepth, colourType, chunks, pixels: zlib.inflateSync(Buffer.concat(idat)) };
}
