import { describe, expect, it } from 'vitest';
import { classOf, imageSize } from './images';

function png(width: number, height: number): Buffer {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  return b;
}

function jpeg(width: number, height: number): Buffer {
  // SOI, an APP0 segment, then SOF0 with the frame size.
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, ...Buffer.alloc(14)]);
  const sof = Buffer.from([
    0xff,
    0xc0,
    0x00,
    0x11,
    0x08,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    3,
    ...Buffer.alloc(9),
  ]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof]);
}

describe('image headers', () => {
  it('read the size of PNG, JPEG, GIF and BMP files', () => {
    expect(imageSize(png(28, 14))).toEqual({ format: 'png', width: 28, height: 14 });
    expect(imageSize(jpeg(640, 480))).toEqual({ format: 'jpeg', width: 640, height: 480 });
    const gif = Buffer.from('GIF89a\x20\x00\x10\x00', 'latin1');
    expect(imageSize(gif)).toEqual({ format: 'gif', width: 32, height: 16 });
    const bmp = Buffer.alloc(30);
    bmp.write('BM', 0, 'latin1');
    bmp.writeInt32LE(8, 18);
    bmp.writeInt32LE(-4, 22);
    expect(imageSize(bmp)).toEqual({ format: 'bmp', width: 8, height: 4 });
  });

  it('answer undefined for what is not an image', () => {
    expect(imageSize(Buffer.from('id,name\n1,a\n'))).toBeUndefined();
    expect(imageSize(Buffer.alloc(0))).toBeUndefined();
  });

  it('take the first folder as the class', () => {
    expect(classOf('cat/001.png')).toBe('cat');
    expect(classOf('001.png')).toBeUndefined();
  });
});
