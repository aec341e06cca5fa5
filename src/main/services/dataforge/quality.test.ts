import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '#platform/testing';
import type { QualityFinding } from '#shared/contracts/dataforge';
import {
  containsEmail,
  isCardNumber,
  isPhoneNumber,
  QualityChecker,
  score,
  type QualityCheckerOptions,
  type QualityResult,
} from './quality';
import { readTable } from './tables';

async function check(text: string, options: QualityCheckerOptions = {}): Promise<QualityResult> {
  const checker = new QualityChecker('t.csv', options);
  await readTable(Readable.from([Buffer.from(text)]), 'csv', checker);
  return checker.result();
}

async function checkFixture(name: string, options: QualityCheckerOptions = {}): Promise<QualityResult> {
  const checker = new QualityChecker(name, options);
  await readTable(createReadStream(fixturePath('data', name)), 'csv', checker);
  return checker.result();
}

function findings(result: QualityResult, kind: QualityFinding['check']): QualityFinding[] {
  return result.findings.filter((f) => f.check === kind);
}

function table(header: string, rows: string[]): string {
  return `${header}\n${rows.join('\n')}\n`;
}

/** A deterministic stand-in for Math.random in generated tables. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}

/** Three well separated clusters of 20 rows each, labelled by cluster. */
function clusters(): string[][] {
  const random = lcg(3);
  return Array.from({ length: 60 }, (_, i) => {
    const k = i % 3;
    return [(k * 10 + random()).toFixed(3), (k * -5 + random()).toFixed(3), `c${k}`];
  });
}

describe('quality checks', () => {
  it('counts missing and blank values per column with their lines, graded by share', async () => {
    const rows = Array.from({ length: 25 }, (_, i) => {
      const b = i === 3 ? '' : 'x';
      const c = i < 5 ? '' : 'y';
      const d = i < 9 ? '' : i === 9 ? '  ' : 'z';
      return `${i},${b},${c},${d}`;
    });
    const result = await check(table('a,b,c,d', rows));
    const missing = findings(result, 'missing');
    expect(missing.map((f) => [f.column, f.count, f.severity])).toEqual([
      ['b', 1, 'info'],
      ['c', 5, 'warning'],
      ['d', 10, 'error'],
    ]);
    expect(missing[0]).toMatchObject({ table: 't.csv', lines: [5] });
    expect(missing[2]?.lines).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('reports exact duplicate rows by the lines of the later copies', async () => {
    const result = await check(table('a,b', ['1,x', '2,y', '1,x', '3,z', '1,x', '2,y']));
    expect(findings(result, 'duplicates')).toEqual([
      expect.objectContaining({ count: 3, lines: [4, 6, 7], column: null, severity: 'error' }),
    ]);
    expect(findings(result, 'near_duplicates')).toEqual([]);
  });

  it('reports rows equal once trimmed, lower-cased and rounded as near duplicates, not as duplicates', async () => {
    const rows = ['Ann,1.5,a', 'bob,2,b', ' ann ,1.5000001,A', 'BOB,2.0,b', 'ann,1.5,a', 'cid,3,c', 'dan,4,d'];
    const result = await check(table('name,x,k', rows));
    expect(findings(result, 'near_duplicates')).toEqual([expect.objectContaining({ count: 3, lines: [4, 5, 6] })]);
    expect(findings(result, 'duplicates')).toEqual([]);
  });

  it('reports a column holding one value, and a column with no values, as constant', async () => {
    const result = await check(table('id,unit,empty,note', ['1,kg,,a', '2,kg,,', '3,,,b', '4,kg,,c']));
    const constant = findings(result, 'constant');
    expect(constant.map((f) => [f.column, f.severity])).toEqual([
      ['unit', 'warning'],
      ['empty', 'info'],
    ]);
    expect(constant[0]?.message).toContain('"kg"');
    expect(constant[1]?.message).toBe('every value is missing');
  });

  it('reports numeric values beyond three interquartile ranges from the quartiles', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `${i},${10 + (i % 7)}`);
    rows[12] = '12,250';
    rows[30] = '30,-200';
    const result = await check(table('id,weight', rows));
    const outliers = findings(result, 'outliers');
    expect(outliers).toEqual([expect.objectContaining({ column: 'weight', count: 2, lines: [14, 32] })]);
    expect(outliers[0]?.message).not.toContain('sample');
  });

  it('warns of class imbalance in a column named label, listing the class counts', async () => {
    const rows = Array.from({ length: 45 }, (_, i) => `${i},${i < 40 ? 'common' : 'rare'}`);
    const result = await check(table('x,label', rows));
    expect(result.target).toBe('label');
    const imbalance = findings(result, 'class_imbalance');
    expect(imbalance).toEqual([expect.objectContaining({ severity: 'warning', column: 'label', count: 5 })]);
    expect(imbalance[0]?.message).toContain('common: 40, rare: 5');
  });

  it('takes balanced classes of at least five rows as no imbalance', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `${i},${['a', 'b', 'c'][i % 3]}`);
    expect(findings(await check(table('x,class', rows)), 'class_imbalance')).toEqual([]);
  });

  it('guesses no target in a small table whose last column merely has few values', async () => {
    const result = await check(table('id,name', ['1,ann', '2,bob', '3,cid']));
    expect(result.target).toBeNull();
    expect(findings(result, 'class_imbalance')).toEqual([]);
  });

  it('uses the given target rather than a guessed one', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `${i % 2 ? 'a' : 'b'},${i % 10 ? 'x' : 'y'}`);
    expect((await check(table('group,class', rows))).target).toBe('class');
    expect((await check(table('group,class', rows), { target: 'group' })).target).toBe('group');
    expect((await check(table('group,class', rows), { target: 'nope' })).target).toBeNull();
  });

  it('finds a flipped label among well separated classes, and none when the labels are right', async () => {
    const clean = clusters();
    const cleanResult = await check(
      table(
        'u,v,label',
        clean.map((r) => r.join(',')),
      ),
    );
    expect(findings(cleanResult, 'label_issues')).toEqual([]);
    expect(cleanResult.labelModel).toMatchObject({ accuracy: 1, classes: 3, used: true });

    const flipped = clusters();
    flipped[7]![2] = 'c0';
    flipped[20]![2] = 'c1';
    const result = await check(
      table(
        'u,v,label',
        flipped.map((r) => r.join(',')),
      ),
    );
    const issues = findings(result, 'label_issues');
    expect(issues).toHaveLength(1);
    expect(issues[0]?.column).toBe('label');
    expect([...(issues[0]?.lines ?? [])].sort((a, b) => a - b)).toEqual([9, 22]);
  });

  it('does not judge labels when the model cannot beat guessing the largest class', async () => {
    const random = lcg(11);
    const rows = Array.from({ length: 200 }, () => `${random().toFixed(4)},${random() < 0.5 ? 'a' : 'b'}`);
    const result = await check(table('x,label', rows));
    expect(result.labelModel?.used).toBe(false);
    expect(findings(result, 'label_issues')).toEqual([]);
  });

  it('reports columns added, removed and retyped since the parent version', async () => {
    const parentColumns = [
      { name: 'id', type: 'integer' as const },
      { name: 'price', type: 'integer' as const },
      { name: 'code', type: 'integer' as const },
      { name: 'gone', type: 'string' as const },
    ];
    const result = await check(table('id,price,code,added', ['1,2.5,A1,x', '2,3,B2,y']), { parentColumns });
    const drift = findings(result, 'schema_drift').map((f) => [f.column, f.severity, f.message]);
    expect(drift).toEqual([
      ['gone', 'warning', 'column removed (was string)'],
      ['price', 'info', 'type changed from integer to number'],
      ['code', 'warning', 'type changed from integer to string'],
      ['added', 'info', 'column added (string)'],
    ]);
    expect(findings(await check(table('id', ['1', '2'])), 'schema_drift')).toEqual([]);
  });

  it('reports e-mail addresses, phone numbers and Luhn-valid card numbers in string columns', async () => {
    const rows = [
      'write to ann@example.com,+14155552671,4111 1111 1111 1111',
      'none,(415) 555-2671,5500-0000-0000-0004',
      'bob.smith@mail.co.uk,020 7946 0958,4111 1111 1111 1112',
      'nothing here,192.168.100.200,12345',
      'no,short 123,n/a',
    ];
    const result = await check(table('contact,phone,card', rows));
    const pii = findings(result, 'pii').map((f) => [f.column, f.severity, f.count, f.lines]);
    expect(pii).toEqual([
      ['contact', 'warning', 2, [2, 4]],
      ['phone', 'warning', 3, [2, 3, 4]],
      ['card', 'error', 2, [2, 3]],
    ]);
  });

  it('tells card numbers by length and the Luhn check, and phone numbers by digits and shape', () => {
    expect(isCardNumber('4111111111111111')).toBe(true);
    expect(isCardNumber('4111-1111-1111-1111')).toBe(true);
    expect(isCardNumber('4111111111111112')).toBe(false);
    expect(isCardNumber('411111111111')).toBe(false);
    expect(isCardNumber('0000 0000 0000 0000')).toBe(false);
    expect(isPhoneNumber('+447911123456')).toBe(true);
    expect(isPhoneNumber('415.555.2671')).toBe(true);
    expect(isPhoneNumber('555-2671')).toBe(false);
    expect(isPhoneNumber('10.0.0.1')).toBe(false);
  });

  it('finds an e-mail address in a long text by looking only near its @ signs', () => {
    expect(containsEmail(`${'word '.repeat(50_000)}write to ann@example.org today`)).toBe(true);
    expect(containsEmail(`${'a'.repeat(200_000)}@${'b'.repeat(200_000)}`)).toBe(false);
    expect(containsEmail('ann@localhost')).toBe(false);
  });

  it('flags a column of plain numbers only when most of them are card numbers', async () => {
    const cards = ['4111111111111111', '5500000000000004', '340000000000009', '6011000000000004'];
    const cardResult = await check(
      table(
        'id,pan',
        cards.map((c, i) => `${i},${c}`),
      ),
    );
    expect(findings(cardResult, 'pii')).toEqual([
      expect.objectContaining({ column: 'pan', severity: 'error', count: 4 }),
    ]);
    const ids = ['4111111111111111', '1234567890123456', '9876543210987654', '1111222233334445', '5555666677778888'];
    expect(
      findings(
        await check(
          table(
            'id,big',
            ids.map((c, i) => `${i},${c}`),
          ),
        ),
        'pii',
      ),
    ).toEqual([]);
  });

  it("scores 100 less each finding's severity weight times its share of rows, at least a fifth", () => {
    const finding = (severity: QualityFinding['severity'], count: number): QualityFinding => ({
      check: 'missing',
      severity,
      table: 't',
      column: 'a',
      message: '',
      count,
      lines: [],
    });
    expect(score([], 100)).toBe(100);
    expect(score([finding('info', 1)], 100)).toBe(99.8);
    expect(score([finding('warning', 50), finding('error', 100)], 100)).toBe(82.5);
    expect(
      score(
        Array.from({ length: 7 }, () => finding('error', 100)),
        100,
      ),
    ).toBe(0);
  });

  it('samples rows uniformly beyond the cap and says so, while duplicates still count every row', async () => {
    // Rows 201-400 repeat rows 1-200; one row in 20 holds a far-out x.
    const rows = Array.from({ length: 400 }, (_, i) => {
      const id = i % 200;
      return `${id % 20 === 7 ? 1e6 : id % 13},${id}`;
    });
    const result = await check(table('x,id', rows), { maxKeptRows: 100 });
    expect(result.rows).toBe(400);
    expect(findings(result, 'duplicates')[0]?.count).toBe(200);
    const outliers = findings(result, 'outliers');
    expect(outliers).toEqual([expect.objectContaining({ column: 'x' })]);
    expect(outliers[0]?.count).toBeLessThanOrEqual(100);
    expect(outliers[0]?.message).toContain('in a uniform sample of 100 of 400 rows');
  });

  it('gives the same findings for the same table', async () => {
    const first = await checkFixture('iris.csv');
    const second = await checkFixture('iris.csv');
    expect(second).toEqual(first);
  });
});

describe('quality of real datasets', () => {
  it('scores iris and wine well, with their species and cultivar as targets and few label issues', async () => {
    for (const [name, target] of [
      ['iris.csv', 'species'],
      ['wine.csv', 'cultivar'],
    ] as const) {
      const result = await checkFixture(name);
      expect(result.target).toBe(target);
      expect(result.score).toBeGreaterThanOrEqual(95);
      expect(findings(result, 'label_issues')[0]?.count ?? 0).toBeLessThanOrEqual(3);
      expect(result.labelModel?.accuracy).toBeGreaterThan(0.93);
      console.log(`${name}: score ${result.score}, 5-fold accuracy ${result.labelModel?.accuracy.toFixed(3)}`);
    }
  }, 30_000);

  it('finds most of ten labels flipped in a copy of iris', async () => {
    const classes = ['setosa', 'versicolor', 'virginica'];
    const lines = readFileSync(fixturePath('data', 'iris.csv'), 'utf8').trim().split(/\r?\n/);
    const flippedLines: number[] = [];
    // Every 15th row, each moved to the next species: 3 or 4 from each class.
    for (let i = 1; i < lines.length; i += 15) {
      const cells = lines[i]!.split(',');
      cells[4] = classes[(classes.indexOf(cells[4]!) + 1) % 3]!;
      lines[i] = cells.join(',');
      flippedLines.push(i + 1);
    }
    expect(flippedLines).toHaveLength(10);
    const result = await check(`${lines.join('\n')}\n`);
    const issues = findings(result, 'label_issues')[0];
    const found = flippedLines.filter((line) => issues?.lines.includes(line));
    console.log(`iris with 10 flipped labels: ${found.length} found among ${issues?.count ?? 0} label issues`);
    expect(found.length).toBeGreaterThanOrEqual(7);
  }, 30_000);

  it('reports the missing measurements of penguins', async () => {
    const result = await checkFixture('penguins.csv');
    expect(result.target).toBe('species');
    const missing = new Map(findings(result, 'missing').map((f) => [f.column, f]));
    for (const column of ['beak_length', 'beak_depth', 'flipper_length', 'body_mass']) {
      expect(missing.get(column)).toMatchObject({ count: 2, lines: [5, 341], severity: 'info' });
    }
    expect(missing.get('sex')?.count).toBe(10);
    expect(result.labelModel?.accuracy).toBeGreaterThan(0.95);
    console.log(`penguins.csv: score ${result.score}, 5-fold accuracy ${result.labelModel?.accuracy.toFixed(3)}`);
  }, 30_000);

  it('checks a generated table of 20,000 rows and 20 columns', async () => {
    const random = lcg(5);
    const header = [...Array.from({ length: 17 }, (_, i) => `x${i}`), 'colour', 'city', 'label'];
    const rows = Array.from({ length: 20_000 }, () => {
      const xs = Array.from({ length: 17 }, () => random() * 2 - 1);
      const colour = ['red', 'green', 'blue'][Math.floor(random() * 3)]!;
      const signal = xs[0]! + xs[1]! - xs[2]! + (colour === 'red' ? 0.5 : 0) + (random() - 0.5) * 0.5;
      const label = signal < -0.7 ? 'a' : signal < 0 ? 'b' : signal < 0.7 ? 'c' : 'd';
      return [...xs.map((x) => x.toFixed(4)), colour, `city${Math.floor(random() * 200)}`, label].join(',');
    });
    const started = performance.now();
    const result = await check(table(header.join(','), rows));
    const ms = performance.now() - started;
    console.log(
      `20,000 × 20 table checked in ${Math.round(ms)} ms; accuracy ${result.labelModel?.accuracy.toFixed(3)}`,
    );
    expect(result.rows).toBe(20_000);
    expect(result.target).toBe('label');
    expect(result.labelModel?.accuracy).toBeGreaterThan(0.75);
  }, 120_000);
});
