import { describe, expect, it } from 'vitest';
import { preciseCos } from './precise_math';

// Reference values from CPython 3.11's math.cos (glibc), the arithmetic MMEngine's schedulers use.
const GLIBC: Array<[number, number]> = [
  [0.005235987755982988, 0.9999862922474267],
  [0.3612831551628262, 0.9354440308298674],
  [0.6440264939859076, 0.7996846584870906],
  [1.5655603390389137, 0.005235963831419537],
  [1.5707963267948966, 6.123233995736766e-17],
  [1.5760323145508794, -0.005235963831419415],
  [3.1363566658338105, -0.9999862922474267],
  [0.1, 0.9950041652780258],
  [1.0, 0.5403023058681398],
  [2.5, -0.8011436155469337],
  [3.0, -0.9899924966004454],
  [-0.7, 0.7648421872844885],
  [10.0, -0.8390715290764524],
  [100.0, 0.8623188722876839],
];

describe('preciseCos', () => {
  it('matches glibc cos bit for bit', () => {
    for (const [x, c] of GLIBC) expect(preciseCos(x)).toBe(c);
  });
  it('stays within 1 ulp of Math.cos on a sweep', () => {
    for (let i = -2000; i <= 2000; i++) {
      const x = i * 0.00731;
      const a = preciseCos(x);
      const b = Math.cos(x);
      expect(Math.abs(a - b)).toBeLessThanOrEqual(Math.abs(b) * 2.3e-16 + 1e-300);
    }
  });
});
