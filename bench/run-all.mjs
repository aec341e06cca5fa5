// `npm run bench`: runs every benchmark in turn and prints its figures (results are kept in bench/RESULTS.md).
// Extra arguments go to each benchmark (e.g. `npm run bench -- --json`).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const extra = process.argv.slice(2);

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `${new Date().toISOString()}  ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
);
console.log(
  `load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}\n`,
);

const benchmarks = [
  { name: 'api-roundtrip', argv: ['bench/api-roundtrip.mjs'] },
  // tsx runs the TypeScript directly and resolves the #platform/... subpath imports.
  { name: 'queue', argv: ['--import', 'tsx', 'bench/queue.ts'] },
  // DataForge: 2 GiB of large files, 100,000 small files (with git lfs alongside), a 1M-row CSV profile. Each
  // writes GiBs to a temp dir and removes it; together they take several minutes.
  { name: 'dataforge-import', argv: ['--import', 'tsx', 'bench/dataforge-import.ts'] },
  { name: 'dataforge-small-files', argv: ['--import', 'tsx', 'bench/dataforge-small-files.ts'] },
  { name: 'dataforge-profile', argv: ['--import', 'tsx', 'bench/dataforge-profile.ts'] },
  // ModelHub: MLflow-API tracking throughput and storage; search and chart reads (seeds 10,000 runs, ~1-2 min each).
  { name: 'modelhub-tracking', argv: ['--import', 'tsx', 'bench/modelhub-tracking.ts'] },
  { name: 'modelhub-search', argv: ['--import', 'tsx', 'bench/modelhub-search.ts'] },
  { name: 'modelhub-store', argv: ['--import', 'tsx', 'bench/modelhub-store.ts'] },
  // TrainOS: 10,000 /bin/true jobs against a throwaway Slurm cluster (needs root and slurm-wlm; ~15 min), the
  // SDK's overhead on the PyTorch template, and the built-in MLP against PyTorch (both need python3-torch).
  { name: 'trainos-throughput', argv: ['--import', 'tsx', 'bench/trainos-throughput.ts'] },
  { name: 'trainos-sdk-overhead', argv: ['--import', 'tsx', 'bench/trainos-sdk-overhead.ts'] },
  { name: 'trainos-mlp', argv: ['--import', 'tsx', 'bench/trainos-mlp.ts'] },
  // DeployEngine: the ONNX runtime's latency and batching, the GGUF runtime's streaming against node-llama-cpp, in
  // process and over HTTP (KServe v2 infer; OpenAI chat completions streamed).
  { name: 'deploy-onnx', argv: ['--import', 'tsx', 'bench/deploy-onnx.ts'] },
  { name: 'deploy-onnx-http', argv: ['--import', 'tsx', 'bench/deploy-onnx-http.ts'] },
  { name: 'deploy-llm', argv: ['--import', 'tsx', 'bench/deploy-llm.ts'] },
  { name: 'deploy-llm-http', argv: ['--import', 'tsx', 'bench/deploy-llm-http.ts'] },
  // EvalKit: drift on 100k rows x 100 columns; metrics with bootstrap intervals over 1M predictions.
  { name: 'evalkit-drift', argv: ['--import', 'tsx', 'bench/evalkit-drift.ts'] },
  { name: 'evalkit-metrics', argv: ['--import', 'tsx', 'bench/evalkit-metrics.ts'] },
];

let failed = 0;
for (const b of benchmarks) {
  const result = spawnSync(process.execPath, [...b.argv, ...extra], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    console.error(`bench: ${b.name} failed (${result.error?.message ?? `exit code ${result.status}`})`);
  }
  console.log();
}
process.exit(failed ? 1 : 0);
