import type { Command } from 'commander';
import type { GpuStatus } from '#shared/contracts/trainos';
import type { Connection } from './connection';
import { printTable } from './output';

interface CliContext {
  conn(): Connection;
  out(value: unknown, human: () => void): void;
}

function orDash(value: number | null, unit: string): string | null {
  return value === null ? null : `${Math.round(value)}${unit}`;
}

function gpuRow(g: GpuStatus) {
  return {
    gpu: g.index,
    name: g.name,
    memory: g.memoryTotalMb === null ? null : `${g.memoryUsedMb ?? '?'} / ${g.memoryTotalMb} MiB`,
    'app reserved': `${g.vram.reservedMb} MiB`,
    util: orDash(g.utilizationPercent, '%'),
    temp: orDash(g.temperatureC, ' °C'),
    power:
      g.powerW === null
        ? null
        : `${Math.round(g.powerW)}${g.powerLimitW === null ? '' : ` / ${Math.round(g.powerLimitW)}`} W`,
  };
}

/** `aidos gpus`: the GPU inventory and what the app holds on each GPU. */
export function addTrainosCommands(program: Command, ctx: CliContext): void {
  program
    .command('gpus')
    .description('list GPUs: memory, what the app has reserved, utilisation, temperature, power')
    .action(async () => {
      const list = await ctx.conn().client.call('gpus.list');
      ctx.out(list, () => {
        if (list.cpuOnly) {
          console.log('no GPU: jobs run on the CPU');
          return;
        }
        printTable(list.items.map(gpuRow), 'no GPU: jobs run on the CPU');
        for (const g of list.items) {
          for (const h of g.vram.holders) {
            console.log(
              `  gpu ${g.index}: ${h.label} (${h.owner} ${h.kind}, ${h.mb} MiB${h.parkable ? ', parkable' : ''})`,
            );
          }
          for (const w of g.vram.waiting) {
            console.log(`  gpu ${g.index}: ${w.label} waits for ${w.mb} MiB`);
          }
        }
      });
    });
}
