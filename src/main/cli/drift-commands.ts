import type { Command } from 'commander';
import type { DriftCheck, Monitor, MonitorAlert } from '#shared/contracts/evalkit-monitoring';
import type { Connection } from './connection';
import { formatTime, printTable } from './output';

interface CliContext {
  conn(): Connection;
  out(value: unknown, human: () => void): void;
}

/** What `aidos drift status` reports per monitor. */
interface MonitorStatus {
  monitor: Monitor;
  lastCheck: DriftCheck | null;
  alerts: MonitorAlert[];
}

const ALERTS_SHOWN = 5;

function printStatus({ monitor: m, lastCheck: check, alerts }: MonitorStatus): void {
  const schedule = [
    m.everyRequests === null ? null : `every ${m.everyRequests} requests`,
    m.everyMinutes === null ? null : `every ${m.everyMinutes} min`,
  ].filter((s) => s !== null);
  console.log(
    `${m.name}  on ${m.deployment}  reference ${m.reference.dataset} v${m.reference.version} (${m.reference.path})`,
  );
  console.log(`  schedule     ${schedule.length ? schedule.join(', ') : 'manual'}`);
  if (!check) {
    console.log('  last check   never');
  } else {
    console.log(
      `  last check   ${formatTime(check.at)} (${check.trigger}): ${check.rows} rows of ${check.requests} requests, ` +
        `${check.drifted.length} of ${check.features.length} features drifted${check.datasetDrift ? ' (dataset drift)' : ''}`,
    );
    printTable(
      check.features.map((f) => ({
        feature: f.name,
        verdict: f.verdict,
        psi: f.psi.toFixed(4),
        'js distance': f.jensenShannon.toFixed(4),
        test: f.ks ? 'KS' : 'chi-square',
        'p-value': (f.ks ?? f.chiSquare)?.pValue.toPrecision(3) ?? null,
      })),
      'no features compared',
    );
    if (check.prediction) {
      console.log(
        `  prediction   ${check.prediction.verdict} (PSI ${check.prediction.psi.toFixed(4)} vs ${check.predictionReference})`,
      );
    }
    if (check.performance) {
      const p = check.performance;
      const metric = p.accuracy !== undefined ? `accuracy ${p.accuracy.toFixed(4)}` : `MAE ${p.mae?.toFixed(4)}`;
      console.log(`  performance  ${metric} on ${p.labelledRows} labelled rows`);
    }
  }
  if (alerts.length === 0) console.log('  alerts       none');
  for (const a of alerts) {
    console.log(`  alert        ${formatTime(a.at)}: ${a.reasons.join('; ')} (webhook ${a.webhookStatus})`);
  }
}

export function addDriftCommands(program: Command, ctx: CliContext): void {
  const drift = program.command('drift').description('drift monitors of deployments (EvalKit)');
  drift
    .command('status [deployment]')
    .description('each drift monitor (of one deployment): its last check, the drifted features with scores, alerts')
    .action(async (deployment: string | undefined) => {
      const { client } = ctx.conn();
      const { items } = await client.call('monitors.list', deployment === undefined ? {} : { deployment });
      const status: MonitorStatus[] = await Promise.all(
        items.map(async (monitor) => ({
          monitor,
          lastCheck: (await client.call('monitors.checks', { monitor: monitor.id, limit: 1 })).items[0] ?? null,
          alerts: (await client.call('monitors.alerts', { monitor: monitor.id, limit: ALERTS_SHOWN })).items,
        })),
      );
      ctx.out({ items: status }, () => {
        if (status.length === 0) {
          console.log(
            `no drift monitors${deployment ? ` on ${deployment}` : ''} (create one in the app's Drift page or with POST /api/v1/monitors)`,
          );
        }
        status.forEach((s, i) => {
          if (i > 0) console.log('');
          printStatus(s);
        });
      });
    });
}
