import { describe, expect, it } from 'vitest';
import { encodeImages, toModelPixels, type RgbaImage } from './images';
import { PREPROCESSING_FORMAT, type ImagePreprocessing } from './preprocessing';

/** A width x height RGBA image whose pixel (x, y) is [r, g, b] = f(x, y). */
function image(width: number, height: number, f: (x: number, y: number) => [number, number, number]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([...f(x, y), 255], (y * width + x) * 4);
  return { width, height, data };
}

describe('image preprocessing', () => {
  it('resizes by nearest neighbour with pixel centres', () => {
    const src = image(4, 2, (x, y) => [x * 10 + y, x * 10 + y, x * 10 + y]);
    // 4x2 → 2x2 takes source columns 1 and 3; 4x2 → 3x4 takes columns 0, 2, 3 and rows 0, 0, 1, 1.
    expect(Array.from(toModelPixels(src, 2, 2, 1))).toEqual([10, 30, 11, 31]);
    expect(Array.from(toModelPixels(src, 4, 3, 1))).toEqual([0, 20, 30, 0, 20, 30, 1, 21, 31, 1, 21, 31]);
  });

  it('keeps RGB for three channels and takes the grey level (luma) of colour for one', () => {
    const src = image(1, 1, () => [200, 100, 50]);
    expect(Array.from(toModelPixels(src, 1, 1, 3))).toEqual([200, 100, 50]);
    expect(Array.from(toModelPixels(src, 1, 1, 1))).toEqual([Math.round(0.299 * 200 + 0.587 * 100 + 0.114 * 50)]);
  });

  it('encodes images as NCHW floats in [0, 1]', () => {
    const pre: ImagePreprocessing = {
      format: PREPROCESSING_FORMAT,
      kind: 'image-classifier',
      input: { name: 'image', dtype: 'float32', shape: ['batch', 3, 1, 2] },
      output: { name: 'probabilities', dtype: 'float32', shape: ['batch', 2] },
      labels: ['a', 'b'],
      height: 1,
      width: 2,
      channels: 3,
      resize: 'nearest',
      scale: 'divide-by-255',
    };
    const out = encodeImages(pre, [image(2, 1, (x) => [x ? 255 : 0, 51, 102])]);
    expect(out).toEqual(Float32Array.from([0, 1, 0.2, 0.2, 0.4, 0.4]));
  });
});
