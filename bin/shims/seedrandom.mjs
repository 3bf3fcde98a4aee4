// ES-module face of the CommonJS `seedrandom` package for tfjs-core's ES build on Node
// (`import * as seedrandom from 'seedrandom'; seedrandom.alea(...)`).
import { createRequire } from 'node:module';

const sr = createRequire(import.meta.url)('seedrandom');
export default sr;
export const alea = sr.alea;
export const xor128 = sr.xor128;
export const xorwow = sr.xorwow;
export const xorshift7 = sr.xorshift7;
export const xor4096 = sr.xor4096;
export const tychei = sr.tychei;
