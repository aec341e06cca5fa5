import { useEffect, useRef, useState, type PointerEvent } from 'react';
import type { BoundingBox, ProjectLabel } from '#shared/contracts/labeling';
import { cx } from '../components/ui';
import { boxFromDrag, fitScale, toImagePoint, type Point, type Size } from './boxes';

/**
 * An image scaled to fit its column, with boxes drawn over it in their labels' colours. Unless read-only, a drag
 * draws a new box (in image pixels, clamped to the image) and a click on a box selects it.
 */
export function BoxCanvas({
  src,
  image,
  boxes,
  labels,
  selected = null,
  onSelect,
  onDraw,
  drawLabel,
  maxHeight,
}: {
  src: string;
  image: Size & { path: string };
  boxes: readonly BoundingBox[];
  labels: readonly ProjectLabel[];
  selected?: number | null;
  onSelect?: (index: number | null) => void;
  /** Called with each box drawn; absent: read-only. */
  onDraw?: (box: BoundingBox) => void;
  /** The label a new box gets. */
  drawLabel?: string | null;
  /** The most height the image may take, in CSS pixels. */
  maxHeight: number;
}) {
  const frame = useRef<HTMLDivElement>(null);
  const surface = useRef<SVGSVGElement>(null);
  const [width, setWidth] = useState(0);
  const [drag, setDrag] = useState<{ from: Point; to: Point } | null>(null);
  useEffect(() => {
    const el = frame.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setWidth(el.clientWidth));
    observer.observe(el);
    setWidth(el.clientWidth);
    return () => observer.disconnect();
  }, []);

  const scale = fitScale(image, { width, height: maxHeight });
  const shown = { width: Math.round(image.width * scale), height: Math.round(image.height * scale) };
  const colour = (label: string) => labels.find((l) => l.name === label)?.color ?? '#71717a';
  const point = (e: PointerEvent) =>
    toImagePoint({ x: e.clientX, y: e.clientY }, (surface.current as SVGSVGElement).getBoundingClientRect(), image);
  const drawing = onDraw !== undefined && drawLabel != null;

  const down = (e: PointerEvent<SVGSVGElement>) => {
    if (!drawing || e.button !== 0) return;
    e.preventDefault();
    e.currentTarget.setPointerCapture(e.pointerId);
    const p = point(e);
    setDrag({ from: p, to: p });
    onSelect?.(null);
  };
  const move = (e: PointerEvent<SVGSVGElement>) => {
    if (drag) setDrag({ from: drag.from, to: point(e) });
  };
  const up = (e: PointerEvent<SVGSVGElement>) => {
    if (!drag) return;
    const box = drawLabel ? boxFromDrag(drag.from, point(e), image, drawLabel) : null;
    setDrag(null);
    if (box) onDraw?.(box);
  };
  const draft = drag && drawLabel ? boxFromDrag(drag.from, drag.to, image, drawLabel) : null;

  return (
    <div ref={frame} className="flex w-full justify-center rounded-md bg-zinc-100 p-0 dark:bg-zinc-950">
      {width > 0 && (
        <div className="relative select-none" style={shown} data-testid="box-canvas">
          <img
            src={src}
            alt={image.path}
            draggable={false}
            className="absolute inset-0 size-full"
            style={{ imageRendering: scale >= 2 ? 'pixelated' : undefined }}
          />
          <svg
            ref={surface}
            viewBox={`0 0 ${image.width} ${image.height}`}
            preserveAspectRatio="none"
            className={cx('absolute inset-0 size-full touch-none', drawing && 'cursor-crosshair')}
            onPointerDown={down}
            onPointerMove={move}
            onPointerUp={up}
            onPointerCancel={() => setDrag(null)}
            role={drawing ? 'application' : 'img'}
            aria-label={drawing ? `Image ${image.path}: drag to draw a ${drawLabel} box` : `Image ${image.path}`}
          >
            {boxes.map((b, i) => (
              <rect
                key={i}
                data-testid="box"
                x={b.x}
                y={b.y}
                width={b.width}
                height={b.height}
                fill={colour(b.label)}
                fillOpacity={selected === i ? 0.3 : 0.14}
                stroke={colour(b.label)}
                strokeWidth={selected === i ? 3 : 2}
                strokeDasharray={selected === i ? '6 3' : undefined}
                vectorEffect="non-scaling-stroke"
                className={onSelect ? 'cursor-pointer' : undefined}
                onPointerDown={
                  onSelect
                    ? (e) => {
                        e.stopPropagation();
                        onSelect(i);
                      }
                    : undefined
                }
              />
            ))}
            {draft && (
              <rect
                x={draft.x}
                y={draft.y}
                width={draft.width}
                height={draft.height}
                fill={colour(draft.label)}
                fillOpacity={0.1}
                stroke={colour(draft.label)}
                strokeWidth={2}
                strokeDasharray="4 3"
                vectorEffect="non-scaling-stroke"
              />
            )}
          </svg>
          {boxes.map((b, i) => (
            <span
              key={i}
              aria-hidden="true"
              className={cx(
                'pointer-events-none absolute px-1 text-[10px] leading-4 font-semibold text-white',
                b.y * scale < 16 ? 'rounded-br' : '-translate-y-full rounded-t',
              )}
              style={{ left: b.x * scale, top: b.y * scale, backgroundColor: colour(b.label) }}
            >
              {b.label}
            </span>
          ))}
        </div>
      )}
    </div>
  );
}
