import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  betaI,
  chiSquareSf,
  erfc,
  gammaP,
  gammaQ,
  kolmogorovSf,
  logBeta,
  logGamma,
  normalCdf,
  normalQuantile,
  studentTCdf,
  studentTQuantile,
  studentTSf,
} from './special.ts';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('special functions', () => {
  it('log-gamma matches factorials and Γ(½) = √π', () => {
    expect(rel(logGamma(11), Math.log(3628800))).toBeLessThan(1e-14);
    expect(rel(logGamma(0.5), 0.5 * Math.log(Math.PI))).toBeLessThan(1e-14);
    expect(logGamma(1)).toBe(0);
  });

  it('log-beta of large arguments agrees with the log-gamma difference where that is still accurate', () => {
    expect(rel(logBeta(12, 30), logGamma(12) + logGamma(30) - logGamma(42))).toBeLessThan(1e-13);
    expect(rel(logBeta(0.5, 40), logGamma(0.5) + logGamma(40) - logGamma(40.5))).toBeLessThan(1e-13);
  });

  it('Student t with 1 df is the Cauchy distribution: CDF ½ + atan(t)/π, quantile tan(π(p − ½))', () => {
    for (const t of [-30, -2, -0.3, 0, 0.7, 5, 100]) {
      expect(Math.abs(studentTCdf(t, 1) - (0.5 + Math.atan(t) / Math.PI))).toBeLessThan(1e-15);
    }
    for (const p of [0.6, 0.9, 0.975, 0.999])
      expect(rel(studentTQuantile(p, 1), Math.tan(Math.PI * (p - 0.5)))).toBeLessThan(1e-13);
  });

  it('Student t with 2 df has the closed form ½ + t/(2√(2 + t²))', () => {
    for (const t of [-4, -1, 0.5, 3])
      expect(Math.abs(studentTCdf(t, 2) - (0.5 + t / (2 * Math.sqrt(2 + t * t))))).toBeLessThan(1e-15);
  });

  it('chi-square with 2 df is exponential: sf = exp(−x/2); with 1 df it is erfc(√(x/2))', () => {
    for (const x of [0.1, 1, 5, 40]) {
      expect(rel(chiSquareSf(x, 2), Math.exp(-x / 2))).toBeLessThan(1e-13);
      expect(rel(chiSquareSf(x, 1), erfc(Math.sqrt(x / 2)))).toBeLessThan(1e-13);
    }
    expect(chiSquareSf(0, 3)).toBe(1);
  });

  it('the normal quantile inverts the CDF, including far tails', () => {
    for (const p of [1e-300, 1e-20, 1e-5, 0.01, 0.3, 0.5, 0.7, 0.99]) {
      const x = normalQuantile(p);
      expect(rel(normalCdf(x), p)).toBeLessThan(1e-12);
    }
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 14);
  });

  it('P + Q = 1 for the incomplete gamma, and I_x(a, b) = 1 − I_{1−x}(b, a) (properties)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 200, noNaN: true }),
        fc.double({ min: 0, max: 300, noNaN: true }),
        (a, x) => {
          expect(Math.abs(gammaP(a, x) + gammaQ(a, x) - 1)).toBeLessThan(1e-12);
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 500, noNaN: true }),
        fc.double({ min: 0.05, max: 500, noNaN: true }),
        // Away from 0 and 1, where 1 − x itself rounds (1 − 1e-194 = 1) and the identity cannot hold in doubles.
        fc.double({ min: 1e-3, max: 1 - 1e-3, noNaN: true }),
        (a, b, x) => {
          expect(Math.abs(betaI(x, a, b) - (1 - betaI(1 - x, b, a)))).toBeLessThan(1e-12);
        },
      ),
    );
  });

  it('t quantile and survival function are inverse (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        fc.double({ min: 0.5, max: 1e6, noNaN: true }),
        (p, df) => {
          // 1e-9: with df near 10⁶ the incomplete beta's continued fraction (a ≈ 5·10⁵, x within 10⁻⁶ of its
          // switch-over point) is good to ~1.4e-10 relative, the worst of 10⁶ random cases.
          expect(Math.abs(studentTSf(-studentTQuantile(p, df), df) - p)).toBeLessThan(1e-9 * p);
        },
      ),
    );
  });

  it('the Kolmogorov survival function is continuous across its two series and has the textbook 5% point 1.3581', () => {
    expect(Math.abs(kolmogorovSf(1 - 1e-12) - kolmogorovSf(1))).toBeLessThan(1e-11);
    expect(kolmogorovSf(1.3581)).toBeCloseTo(0.05, 4);
    expect(kolmogorovSf(0)).toBe(1);
  });
});
