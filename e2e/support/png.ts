import { crc32, deflateSync } from 'node:zlib';

type Rgb = [number, number, number];

/**
 * A real RGB PNG of the given size: a soft gradient with filled rectangles on it, so that a labeling test has
 * something to box and a screenshot something to look at.
 */
export function pngWithShapes(
  width: number,
  height: number,
  shapes: { x: number; y: number; width: number; height: number; color: Rgb }[],
): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      const shape = shapes.findLast((s) => x >= s.x && x < s.x + s.width && y >= s.y && y < s.y + s.height);
      const rgb: Rgb = shape?.color ?? [200 + Math.round((x / width) * 40), 215, 230 - Math.round((y / height) * 40)];
      row.set(rgb, 1 + x * 3);
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}
