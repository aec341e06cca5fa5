import { useState } from 'react';
import { Dialog } from '../components/Dialog';
import { Button, inputClass, Muted } from '../components/ui';
import { ATTRIBUTE_COLUMNS, type Discovered } from './columns';

/**
 * Which columns the runs table shows: the attributes, and every param, metric and tag key found among the runs
 * loaded so far. Checking a box adds its column at the end; the choice is saved per set of experiments.
 */
export function ColumnChooser({
  discovered,
  chosen,
  onChange,
}: {
  discovered: Discovered;
  chosen: readonly string[];
  onChange: (ids: string[] | null) => void;
}) {
  const [open, setOpen] = useState(false);
  const [search, setSearch] = useState('');
  const shown = new Set(chosen);
  const toggle = (id: string) => onChange(shown.has(id) ? chosen.filter((c) => c !== id) : [...chosen, id]);
  const match = (key: string) => key.toLowerCase().includes(search.trim().toLowerCase());
  const groups: { title: string; items: { id: string; label: string }[] }[] = [
    { title: 'Attributes', items: ATTRIBUTE_COLUMNS.map((c) => ({ id: c.id, label: c.label })) },
    { title: 'Metrics', items: discovered.metrics.map((k) => ({ id: `metric:${k}`, label: k })) },
    { title: 'Params', items: discovered.params.map((k) => ({ id: `param:${k}`, label: k })) },
    { title: 'Tags', items: discovered.tags.map((k) => ({ id: `tag:${k}`, label: k })) },
  ];
  return (
    <>
      <Button onClick={() => setOpen(true)}>Columns…</Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="Columns" testId="column-chooser">
        <input
          className={inputClass}
          aria-label="Find a column"
          placeholder="Find a key…"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <div className="max-h-[55vh] space-y-3 overflow-y-auto pr-1">
          {groups.map((group) => {
            const items = group.items.filter((i) => match(i.label));
            return (
              <fieldset key={group.title}>
                <legend className="mb-1 text-[11px] font-semibold tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
                  {group.title}
                </legend>
                {items.length === 0 ? (
                  <Muted className="text-[12px]">
                    {group.items.length === 0 ? 'None among the runs loaded' : 'None match'}
                  </Muted>
                ) : (
                  <div className="grid grid-cols-2 gap-x-3 gap-y-1">
                    {items.map((item) => (
                      <label key={item.id} className="flex min-w-0 items-center gap-2">
                        <input
                          type="checkbox"
                          className="accent-indigo-600"
                          checked={shown.has(item.id)}
                          onChange={() => toggle(item.id)}
                        />
                        <span className="truncate" title={item.label}>
                          {item.label}
                        </span>
                      </label>
                    ))}
                  </div>
                )}
              </fieldset>
            );
          })}
        </div>
        <div className="flex justify-between gap-2 pt-1">
          <Button variant="ghost" onClick={() => onChange(null)}>
            Reset to defaults
          </Button>
          <Button variant="primary" onClick={() => setOpen(false)}>
            Done
          </Button>
        </div>
      </Dialog>
    </>
  );
}
