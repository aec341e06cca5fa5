import type { FeatureDriftResult } from '#shared/contracts/evalkit-monitoring';

const WIDTH = 320;
const HEIGHT = 120;
const AXIS = 18;

function binLabels(f: FeatureDriftResult): string[] {
  const { edges, categories, reference } = f.distribution;
  if (categories) return categories.map(String);
  const e = edges ?? [];
  const fmt = (v: number) => String(Number(v.toPrecision(3)));
  return reference.map((_, i) =>
    i === 0 ? `≤ ${fmt(e[0] ?? 0)}` : i === e.length ? `> ${fmt(e[i - 1] ?? 0)}` : `≤ ${fmt(e[i] ?? 0)}`,
  );
}

/** Reference vs current proportions per bin (numeric: the reference's quantile bins) or per category. */
export function Histogram({ feature }: { feature: FeatureDriftResult }) {
  const { reference, current } = feature.distribution;
  const max = Math.max(...reference, ...current, 1e-9);
  const slot = WIDTH / reference.length;
  const bar = Math.max(1, slot / 2 - 1.5);
  const labels = binLabels(feature);
  const h = (v: number) => ((HEIGHT - AXIS) * v) / max;
  return (
    <svg
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      className="h-32 w-full"
      role="img"
      aria-label={`${feature.name}: reference and current distributions`}
      data-testid="drift-histogram"
    >
      {reference.map((r, i) => {
        const c = current[i] ?? 0;
        const x = i * slot + 1;
        return (
          <g key={i}>
            <title>{`${labels[i]}: reference ${(r * 100).toFixed(1)}%, current ${(c * 100).toFixed(1)}%`}</title>
            <rect
              x={x}
              y={HEIGHT - AXIS - h(r)}
              width={bar}
              height={h(r)}
              className="fill-zinc-400 dark:fill-zinc-500"
            />
            <rect
              x={x + bar + 1}
              y={HEIGHT - AXIS - h(c)}
              width={bar}
              height={h(c)}
              className={feature.verdict === 'drift' ? 'fill-red-500' : 'fill-indigo-500'}
            />
          </g>
        );
      })}
      <line x1="0" x2={WIDTH} y1={HEIGHT - AXIS} y2={HEIGHT - AXIS} className="stroke-zinc-300 dark:stroke-zinc-700" />
      {labels.length <= 12 &&
        labels.map((l, i) =>
          i % Math.ceil(labels.length / 6) === 0 ? (
            <text key={i} x={i * slot + 1} y={HEIGHT - 4} className="fill-zinc-500 text-[9px]">
              {l}
            </text>
          ) : null,
        )}
    </svg>
  );
}
