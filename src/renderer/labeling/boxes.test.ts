import { describe, expect, it } from 'vitest';
import { boxAt, boxFromDrag, fitScale, toImagePoint } from './boxes';

const image = { width: 400, height: 200 };

describe('toImagePoint', () => {
  it('maps a pointer on the drawn image (at any scale) to image pixels', () => {
    // Drawn at twice its size, 100 px from the left and 50 px from the top of the viewport.
    const rect = { left: 100, top: 50, width: 800, height: 400 };
    expect(toImagePoint({ x: 100, y: 50 }, rect, image)).toEqual({ x: 0, y: 0 });
    expect(toImagePoint({ x: 500, y: 250 }, rect, image)).toEqual({ x: 200, y: 100 });
  });

  it('clamps a pointer outside the image to its edge', () => {
    const rect = { left: 0, top: 0, width: 200, height: 100 };
    expect(toImagePoint({ x: -30, y: 500 }, rect, image)).toEqual({ x: 0, y: 200 });
  });
});

describe('boxFromDrag', () => {
  it('makes a box in whole pixels from corners dragged in any direction', () => {
    expect(boxFromDrag({ x: 50.4, y: 80.6 }, { x: 10.2, y: 20.5 }, image, 'cat')).toEqual({
      x: 10,
      y: 21,
      width: 40,
      height: 60,
      label: 'cat',
    });
  });

  it('clamps the box to the image', () => {
    expect(boxFromDrag({ x: -10, y: -10 }, { x: 900, y: 900 }, image, 'cat')).toEqual({
      x: 0,
      y: 0,
      width: 400,
      height: 200,
      label: 'cat',
    });
  });

  it('is null for a click or a sliver', () => {
    expect(boxFromDrag({ x: 10, y: 10 }, { x: 10.5, y: 10.5 }, image, 'cat')).toBeNull();
    expect(boxFromDrag({ x: 10, y: 10 }, { x: 100, y: 11 }, image, 'cat')).toBeNull();
  });
});

describe('fitScale', () => {
  it('fits the image into the space, limiting how far a tiny image grows', () => {
    expect(fitScale(image, { width: 800, height: 800 })).toBe(2);
    expect(fitScale(image, { width: 200, height: 800 })).toBe(0.5);
    expect(fitScale({ width: 10, height: 10 }, { width: 800, height: 800 })).toBe(8);
    expect(fitScale({ width: 0, height: 10 }, { width: 800, height: 800 })).toBe(1);
  });
});

describe('boxAt', () => {
  it('finds the topmost box under a point', () => {
    const boxes = [
      { x: 0, y: 0, width: 100, height: 100, label: 'a' },
      { x: 50, y: 50, width: 100, height: 100, label: 'b' },
    ];
    expect(boxAt(boxes, { x: 60, y: 60 })).toBe(1);
    expect(boxAt(boxes, { x: 10, y: 10 })).toBe(0);
    expect(boxAt(boxes, { x: 300, y: 10 })).toBe(-1);
  });
});
