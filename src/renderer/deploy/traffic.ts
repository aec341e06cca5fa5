import type { Deployment, TrafficInput, VersionStats } from '#shared/contracts/deploy';

/** What the traffic card's form holds, as typed. */
export interface TrafficForm {
  mode: 'canary' | 'shadow';
  version: string;
  percent: string;
}

/** "Canary v2 answers 10% of requests", "Shadow v2 is sent every request", or the main version alone. */
export function trafficLabel(d: Pick<Deployment, 'traffic'>): string {
  const t = d.traffic;
  if (!t) return 'The main version answers every request';
  const version = t.source.kind === 'model-version' ? `v${t.source.version}` : t.source.path;
  return t.mode === 'canary'
    ? `Canary ${version} answers ${t.percent}% of requests`
    : `Shadow ${version} is sent every request (its answers are discarded)`;
}

/** The form as the API's `traffic` input: the server checks it and names the field it refuses. */
export function trafficInput(form: TrafficForm): TrafficInput {
  const version = /^\d+$/.test(form.version.trim()) ? Number(form.version.trim()) : form.version.trim();
  if (form.mode === 'shadow') return { mode: 'shadow', version };
  const percent = form.percent.trim() === '' ? undefined : Number(form.percent);
  return { mode: 'canary', version, ...(percent === undefined ? {} : { percent }) };
}

/** The form's starting values: the deployment's traffic, or a canary of 10%. */
export function trafficForm(d: Pick<Deployment, 'traffic'>): TrafficForm {
  const t = d.traffic;
  if (!t) return { mode: 'canary', version: '', percent: '10' };
  return {
    mode: t.mode,
    version: t.source.kind === 'model-version' ? String(t.source.version) : '',
    percent: t.mode === 'canary' ? String(t.percent) : '10',
  };
}

/** "v2", or "file" for a file deployment's only version. */
export function versionName(v: Pick<VersionStats, 'version'>): string {
  return v.version === null ? 'file' : `v${v.version}`;
}
