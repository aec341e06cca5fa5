// A training process that logs metric points and is killed (SIGKILL) before they leave the journal: the
// journal must hand them to the next start. Prints the run id, then dies.
import { openDatabase, runMigrations } from '#platform/db';
import { EventBus } from '#platform/events';
import { silentLogger } from '#platform/logger';
import { modelhubMigrations } from '../schema';
import { TrackingService } from '../service';
import { ModelhubStore } from '../store';

const file = process.argv[2] as string;
const db = openDatabase(file);
runMigrations(db, [modelhubMigrations]);
const tracking = new TrackingService(
  new ModelhubStore(db, { journal: ModelhubStore.journalFor(db) }),
  new EventBus(silentLogger()),
  silentLogger(),
);
const run = tracking.createRun({}).info.id;
for (let step = 0; step < 300; step++) {
  tracking.logBatch(run, {
    metrics: [{ key: 'loss', value: step === 7 ? Number.NaN : 1 / (step + 1), timestamp: 1000 + step, step }],
    params: [],
    tags: [],
  });
}
process.stdout.write(`${run}\n`);
process.kill(process.pid, 'SIGKILL');
