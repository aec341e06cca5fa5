import type { BoundingBox } from '#shared/contracts/labeling';

export interface Size {
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

/** Drags shorter than this (in image pixels) are clicks, not boxes. */
export const MIN_BOX_PX = 2;

/** The scale that fits an image into the space given, never above `maxScale` (tiny images grow, but not forever). */
export function fitScale(image: Size, space: Size, maxScale = 8): number {
  if (image.width <= 0 || image.height <= 0 || space.width <= 0 || space.height <= 0) return 1;
  return Math.min(space.width / image.width, space.height / image.height, maxScale);
}

/** A pointer position on the drawn image (client pixels, with the image's bounding rectangle) in image pixels, clamped to the image. */
export function toImagePoint(
  client: Point,
  rect: { left: number; top: number; width: number; height: number },
  image: Size,
): Point {
  const x = rect.width > 0 ? ((client.x - rect.left) / rect.width) * image.width : 0;
  const y = rect.height > 0 ? ((client.y - rect.top) / rect.height) * image.height : 0;
  return { x: clamp(x, 0, image.width), y: clamp(y, 0, image.height) };
}

/**
 * The box between two corners of a drag, in whole image pixels inside the image; null when the drag is too small
 * to be a box.
 */
export function boxFromDrag(a: Point, b: Point, image: Size, label: string): BoundingBox | null {
  const x0 = Math.round(clamp(Math.min(a.x, b.x), 0, image.width));
  const y0 = Math.round(clamp(Math.min(a.y, b.y), 0, image.height));
  const x1 = Math.round(clamp(Math.max(a.x, b.x), 0, image.width));
  const y1 = Math.round(clamp(Math.max(a.y, b.y), 0, image.height));
  if (x1 - x0 < MIN_BOX_PX || y1 - y0 < MIN_BOX_PX) return null;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0, label };
}

/** The topmost (last drawn) box under a point, as an index; -1 when none. */
export function boxAt(boxes: readonly BoundingBox[], p: Point): number {
  for (let i = boxes.length - 1; i >= 0; i--) {
    const b = boxes[i] as BoundingBox;
    if (p.x >= b.x && p.x <= b.x + b.width && p.y >= b.y && p.y <= b.y + b.height) return i;
  }
  return -1;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
