/**
 * PyTorch's CPU random generator (MT19937 seeded like `torch.Generator().manual_seed(seed)`) and
 * `torch.randperm`, so `DefaultSampler(shuffle=True, seed)` visits samples in the same order as
 * MMEngine's. The generator state is plain data and can be saved and restored.
 *
 * @see aten/src/ATen/core/MT19937RNGEngine.h and native/TensorFactories.cpp `randperm_cpu` (PyTorch)
 */

const N = 624;
const M = 397;

/** Mersenne Twister 19937 with 32-bit outputs, seeded with `init_genrand(seed & 0xffffffff)`. */
export class MT19937 {
  private state = new Uint32Array(N);
  private index = N;

  constructor(seed = 5489) {
    this.seed(seed);
  }

  /** Re-seeds (torch `manual_seed`: the low 32 bits of the seed). */
  seed(seed: number): void {
    const s = this.state;
    s[0] = Number(BigInt.asUintN(32, BigInt(Math.trunc(seed))));
    for (let j = 1; j < N; j++) {
      const prev = s[j - 1]! ^ (s[j - 1]! >>> 30);
      s[j] = (Math.imul(1812433253, prev) + j) >>> 0;
    }
    this.index = N;
  }

  private twist(): void {
    const s = this.state;
    for (let i = 0; i < N; i++) {
      const y = (s[i]! & 0x80000000) | (s[(i + 1) % N]! & 0x7fffffff);
      let v = s[(i + M) % N]! ^ (y >>> 1);
      if (y & 1) v ^= 0x9908b0df;
      s[i] = v >>> 0;
    }
    this.index = 0;
  }

  /** Next 32-bit unsigned output. */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Plain-data state. */
  getState(): { state: number[]; index: number } {
    return { state: Array.from(this.state), index: this.index };
  }

  /** Restores a state from {@link getState}. */
  setState(st: { state: number[]; index: number }): void {
    if (st.state.length !== N) throw new Error(`MT19937 state must have ${N} words`);
    this.state = Uint32Array.from(st.state);
    this.index = st.index;
  }
}

/** `torch.randperm(n, generator=g)` on the CPU (the Fisher–Yates variant PyTorch uses for n < 2^32/20). */
export function randperm(n: number, gen: MT19937): number[] {
  if (n >= Math.floor(0xffffffff / 20)) throw new Error(`randperm: n=${n} is too large`);
  const r = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n - 1; i++) {
    const z = gen.nextUint32() % (n - i);
    const t = r[i]!;
    r[i] = r[z + i]!;
    r[z + i] = t;
  }
  return r;
}

/**
 * A random seed as MMEngine's `sync_random_seed()` draws it in a single process
 * (`np.random.randint(2**31)`), from `Math.random` or the supplied source.
 */
export function syncRandomSeed(random: () => number = Math.random): number {
  return Math.floor(random() * 2 ** 31);
}
