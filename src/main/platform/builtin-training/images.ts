import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { AppError } from '#shared/errors';
import type { IdxFiles } from './files';
import type { ImagePreprocessing } from './preprocessing';
import { sortLabels } from './tabular';

/** Images at the model's size, 8-bit, HWC, `channels` per pixel, with their class index. */
export interface ImageSet {
  height: number;
  width: number;
  channels: 1 | 3;
  labels: string[];
  pixels: Uint8Array;
  classes: Int32Array;
}

/** A decoded image, 8-bit RGBA, as pngjs gives it. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

const IDX_IMAGES_MAGIC = 0x803;
const IDX_LABELS_MAGIC = 0x801;

function readMaybeGzipped(file: string): Buffer {
  const bytes = readFileSync(file);
  return file.endsWith('.gz') ? gunzipSync(bytes) : bytes;
}

/** IDX files (MNIST / Fashion-MNIST): grey images with numeric labels. */
export function readIdx(files: IdxFiles): { height: number; width: number; pixels: Uint8Array; labels: Uint8Array } {
  const images = readMaybeGzipped(files.images);
  const labels = readMaybeGzipped(files.labels);
  const bad = (file: string, why: string) =>
    new AppError('INVALID_ARGUMENT', `'${path.basename(file)}' is not a valid IDX file: ${why}`);
  if (images.length < 16 || images.readUInt32BE(0) !== IDX_IMAGES_MAGIC) throw bad(files.images, 'wrong magic number');
  if (labels.length < 8 || labels.readUInt32BE(0) !== IDX_LABELS_MAGIC) throw bad(files.labels, 'wrong magic number');
  const [count, height, width] = [images.readUInt32BE(4), images.readUInt32BE(8), images.readUInt32BE(12)];
  if (images.length < 16 + count * height * width) throw bad(files.images, 'truncated');
  if (labels.readUInt32BE(4) !== count || labels.length < 8 + count)
    throw bad(files.labels, `it does not hold ${count} labels like its images file`);
  return {
    height,
    width,
    pixels: new Uint8Array(images.buffer, images.byteOffset + 16, count * height * width),
    labels: new Uint8Array(labels.buffer, labels.byteOffset + 8, count),
  };
}

/** An IDX set as an ImageSet; `labels` fixes the class order (from the training file) when given. */
export function idxImageSet(files: IdxFiles, labels?: string[]): ImageSet {
  const idx = readIdx(files);
  const names = labels ?? sortLabels([...new Set(idx.labels)].map(String));
  const classOf = new Map(names.map((n, i) => [n, i]));
  const classes = Int32Array.from(idx.labels, (l) => classOf.get(String(l)) ?? -1);
  return { height: idx.height, width: idx.width, channels: 1, labels: names, pixels: idx.pixels, classes };
}

/**
 * Resizes (nearest neighbour) and converts an RGBA image to the model's layout: HWC, 1 channel (grey level) or 3
 * (RGB), alpha ignored. The reference implementation of `ImagePreprocessing`'s pixel rule.
 */
export function toModelPixels(image: RgbaImage, height: number, width: number, channels: 1 | 3): Uint8Array {
  const out = new Uint8Array(height * width * channels);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(image.height - 1, Math.floor(((y + 0.5) * image.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(image.width - 1, Math.floor(((x + 0.5) * image.width) / width));
      const s = (sy * image.width + sx) * 4;
      const [r, g, b] = [image.data[s] as number, image.data[s + 1] as number, image.data[s + 2] as number];
      const o = (y * width + x) * channels;
      if (channels === 3) {
        out[o] = r;
        out[o + 1] = g;
        out[o + 2] = b;
      } else out[o] = r === g && g === b ? r : Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    }
  }
  return out;
}

function isGrey(image: RgbaImage): boolean {
  for (let i = 0; i < image.data.length; i += 4)
    if (image.data[i] !== image.data[i + 1] || image.data[i] !== image.data[i + 2]) return false;
  return true;
}

export function decodePng(file: string): RgbaImage {
  try {
    return PNG.sync.read(readFileSync(file));
  } catch (err) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `'${path.basename(file)}' is not a readable PNG: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** The PNG files of each class sub-folder (sorted; folders without PNGs are not classes). */
export function listImageFolder(root: string): { label: string; files: string[] }[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => ({
      label: e.name,
      files: readdirSync(path.join(root, e.name))
        .filter((f) => /\.png$/i.test(f))
        .sort()
        .map((f) => path.join(root, e.name, f)),
    }))
    .filter((c) => c.files.length > 0)
    .sort((a, b) => (a.label < b.label ? -1 : 1));
}

/**
 * Decodes PNG files of known classes into an ImageSet. The training set passes `imageSize` (default: the first
 * image's size) and gets 1 channel when every image is grey, else 3; the test set passes the training set's shape.
 */
export function pngImageSet(
  files: { label: string; file: string }[],
  labels: string[],
  shape: { height: number; width: number; channels: 1 | 3 } | { imageSize: [number, number] | undefined },
): ImageSet {
  const decoded = files.map((f) => decodePng(f.file));
  const first = decoded[0];
  if (!first) throw new AppError('INVALID_ARGUMENT', 'the image set has no PNG images');
  const fixed = 'channels' in shape ? shape : null;
  const [height, width] =
    'channels' in shape ? [shape.height, shape.width] : (shape.imageSize ?? [first.height, first.width]);
  const channels = fixed ? fixed.channels : decoded.every(isGrey) ? 1 : 3;
  const classOf = new Map(labels.map((l, i) => [l, i]));
  const size = height * width * channels;
  const pixels = new Uint8Array(decoded.length * size);
  decoded.forEach((image, i) => pixels.set(toModelPixels(image, height, width, channels), i * size));
  const classes = Int32Array.from(files, (f) => classOf.get(f.label) ?? -1);
  return { height, width, channels, labels, pixels, classes };
}

/** The ONNX input of decoded images: float32 NCHW in [0, 1] (the reference implementation of `ImagePreprocessing`). */
export function encodeImages(pre: ImagePreprocessing, images: RgbaImage[]): Float32Array {
  const plane = pre.height * pre.width;
  const out = new Float32Array(images.length * pre.channels * plane);
  images.forEach((image, n) => {
    const hwc = toModelPixels(image, pre.height, pre.width, pre.channels);
    for (let p = 0; p < plane; p++)
      for (let c = 0; c < pre.channels; c++)
        out[(n * pre.channels + c) * plane + p] = (hwc[p * pre.channels + c] as number) / 255;
  });
  return out;
}
