import { useState } from 'react';
import type { ImageSummary } from '#shared/contracts/dataforge';
import { Button, Card, Chip, Muted } from '../components/ui';

const CLASSES_SHOWN = 30;
const UNREADABLE_SHOWN = 50;

/**
 * The images of a version at a glance: how many, in which formats, the range of their sizes, the classes of an
 * ImageFolder layout (`<class>/<file>`) as bars, and the files named like images that could not be read.
 */
export function ImagesSummary({ images }: { images: ImageSummary }) {
  const formats = Object.entries(images.formats).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return (
    <Card
      data-testid="images-summary"
      title={
        <span className="flex flex-wrap items-center gap-2">
          Images
          <span className="font-normal text-zinc-500 tabular-nums dark:text-zinc-400" data-testid="images-count">
            {images.count.toLocaleString('en-US')} {images.count === 1 ? 'image' : 'images'}
          </span>
          {images.unreadable.length > 0 && (
            <span className="font-medium text-red-700 tabular-nums dark:text-red-400">
              {images.unreadable.length.toLocaleString('en-US')} unreadable
            </span>
          )}
        </span>
      }
    >
      <div className="grid grid-cols-1 gap-4 md:grid-cols-[minmax(0,18rem)_minmax(0,1fr)]">
        <dl className="space-y-2 text-[12px]">
          <div>
            <dt className="text-zinc-500 dark:text-zinc-400">Formats</dt>
            <dd className="mt-0.5 flex flex-wrap gap-1" data-testid="images-formats">
              {formats.length === 0 ? (
                <Muted>—</Muted>
              ) : (
                formats.map(([format, n]) => (
                  <Chip key={format}>
                    {format} {n.toLocaleString('en-US')}
                  </Chip>
                ))
              )}
            </dd>
          </div>
          <Range label="Width" range={images.width} testId="images-width" />
          <Range label="Height" range={images.height} testId="images-height" />
        </dl>
        <Classes classes={images.classes} total={images.count} />
      </div>
      {images.unreadable.length > 0 && (
        <details className="mt-3 text-[12px]" data-testid="images-unreadable">
          <summary className="cursor-pointer text-red-700 dark:text-red-400">
            {images.unreadable.length} {images.unreadable.length === 1 ? 'file is' : 'files are'} named like an image
            but could not be read
          </summary>
          <ul className="mt-1 max-h-40 space-y-0.5 overflow-y-auto font-mono text-[11px]">
            {images.unreadable.slice(0, UNREADABLE_SHOWN).map((p) => (
              <li key={p}>{p}</li>
            ))}
            {images.unreadable.length > UNREADABLE_SHOWN && (
              <li>
                <Muted>and {images.unreadable.length - UNREADABLE_SHOWN} more</Muted>
              </li>
            )}
          </ul>
        </details>
      )}
    </Card>
  );
}

function Range({
  label,
  range,
  testId,
}: {
  label: string;
  range: { min: number; max: number } | null;
  testId: string;
}) {
  return (
    <div>
      <dt className="text-zinc-500 dark:text-zinc-400">{label}</dt>
      <dd className="mt-0.5 font-medium text-zinc-900 tabular-nums dark:text-zinc-100" data-testid={testId}>
        {range === null ? (
          <Muted>unknown</Muted>
        ) : range.min === range.max ? (
          `${range.min} px`
        ) : (
          `${range.min} – ${range.max} px`
        )}
      </dd>
    </div>
  );
}

function Classes({ classes, total }: { classes: ImageSummary['classes']; total: number }) {
  const [all, setAll] = useState(false);
  if (classes.length === 0) {
    return (
      <p className="text-[12px] text-zinc-500 dark:text-zinc-400">
        No classes: images laid out as <code className="font-mono">&lt;class&gt;/&lt;file&gt;</code> (ImageFolder style)
        are counted per class.
      </p>
    );
  }
  const max = Math.max(1, ...classes.map((c) => c.count));
  const shown = all ? classes : classes.slice(0, CLASSES_SHOWN);
  return (
    <div>
      <p className="mb-1 text-[12px] text-zinc-500 dark:text-zinc-400">
        {classes.length} {classes.length === 1 ? 'class' : 'classes'}
      </p>
      <ul className="space-y-1 text-[12px]" aria-label="Classes" data-testid="image-classes">
        {shown.map((c) => (
          <li
            key={c.name}
            className="flex items-center gap-2"
            data-testid="image-class"
            data-class={c.name}
            data-count={c.count}
          >
            <span className="w-32 shrink-0 truncate font-mono text-zinc-800 dark:text-zinc-200" title={c.name}>
              {c.name}
            </span>
            <span className="relative h-4 min-w-0 flex-1 overflow-hidden rounded-sm bg-zinc-100 dark:bg-zinc-800">
              <span
                className="absolute inset-y-0 left-0 rounded-sm bg-indigo-400 dark:bg-indigo-500/80"
                style={{ width: `${(c.count / max) * 100}%` }}
              />
            </span>
            <span className="w-24 shrink-0 text-right text-zinc-600 tabular-nums dark:text-zinc-300">
              {c.count.toLocaleString('en-US')}
              {total > 0 && (
                <span className="ml-1 text-zinc-400 dark:text-zinc-500">{Math.round((c.count / total) * 100)}%</span>
              )}
            </span>
          </li>
        ))}
      </ul>
      {classes.length > CLASSES_SHOWN && (
        <Button size="sm" variant="ghost" className="mt-1" onClick={() => setAll(!all)}>
          {all ? 'Show fewer' : `Show all ${classes.length} classes`}
        </Button>
      )}
    </div>
  );
}
