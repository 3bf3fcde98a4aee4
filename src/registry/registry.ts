/**
 * A string → builder registry in the style of MMEngine: classes sign up under their MMDetection
 * `type` name and `build(cfg)` constructs them from a plain config dict.
 *
 * @see mmengine/registry/registry.py and mmengine/registry/build_functions.py (MMEngine 0.10)
 */

/** A plain config dict as the config system resolves it (`{type: 'ResNet', depth: 50, …}`). */
export type ConfigDict = Record<string, unknown>;

/** Constructs one object from a config dict whose `type` key has already been removed. */
export type Builder<T> = (cfg: ConfigDict) => T;

/**
 * Raised when `build` cannot resolve a config: unknown `type`, missing `type`, or a constructor that
 * rejects its arguments. The message follows MMEngine's registry KeyError wording.
 */
export class RegistryError extends Error {
  /** Serialisable details: registry name, scope and the offending type (if any). */
  readonly details: { registry: string; scope: string; type?: string };

  constructor(message: string, details: { registry: string; scope: string; type?: string }) {
    super(message);
    this.name = 'RegistryError';
    this.details = details;
  }
}

/** Link given in MMEngine's unknown-type message. */
const CUSTOM_MODULE_DOC =
  'https://mmengine.readthedocs.io/en/latest/advanced_tutorials/config.html#import-the-custom-module';

function isPlainObject(v: unknown): v is ConfigDict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Maps `type` strings to builders, like MMEngine's `Registry(name, scope)`.
 *
 * @typeParam T - what the registered builders return.
 */
export class Registry<T = unknown> {
  private readonly builders = new Map<string, Builder<T>>();

  /**
   * @param name - registry name as MMEngine prints it (`model`, `task util`, …).
   * @param scope - default scope (`mmdet`).
   */
  constructor(
    readonly name: string,
    readonly scope = 'mmdet',
  ) {}

  /**
   * Registers `builder` under `type`. Re-registering a name throws unless `force` is set (as MMEngine).
   */
  register(type: string, builder: Builder<T>, force = false): void {
    if (this.builders.has(type) && !force) {
      throw new RegistryError(`${type} is already registered in ${this.name} at ${this.scope}`, {
        registry: this.name,
        scope: this.scope,
        type,
      });
    }
    this.builders.set(type, builder);
  }

  /** Whether `type` is registered. */
  has(type: string): boolean {
    return this.builders.has(type);
  }

  /** The builder for `type`, or undefined. */
  get(type: string): Builder<T> | undefined {
    return this.builders.get(type);
  }

  /** Registered type names, sorted (used by the editor for completion). */
  get typeNames(): string[] {
    return [...this.builders.keys()].sort();
  }

  /**
   * Builds an object from `cfg`: copies it, fills gaps from `defaultArgs`, pops `type` and passes the
   * remaining keys to the registered builder.
   *
   * @param cfg - config dict with a string `type` key.
   * @param defaultArgs - values used where `cfg` has no key of the same name.
   * @throws RegistryError on a missing or unknown `type`.
   */
  build<R extends T = T>(cfg: ConfigDict, defaultArgs?: ConfigDict): R {
    if (!isPlainObject(cfg)) {
      throw new RegistryError(`cfg should be a dict, but got ${describe(cfg)}`, {
        registry: this.name,
        scope: this.scope,
      });
    }
    const args: ConfigDict = { ...(defaultArgs ?? {}), ...cfg };
    if (!('type' in args)) {
      throw new RegistryError(
        `\`cfg\` or \`default_args\` must contain the key "type", but got ${describe(cfg)}\n${describe(defaultArgs ?? null)}`,
        { registry: this.name, scope: this.scope },
      );
    }
    const type = args.type;
    delete args.type;
    if (typeof type !== 'string') {
      throw new RegistryError(`type must be a str, but got ${describe(type)}`, {
        registry: this.name,
        scope: this.scope,
      });
    }
    const builder = this.builders.get(type);
    if (builder === undefined) {
      throw new RegistryError(
        `${type} is not in the ${this.scope}::${this.name} registry. Please check whether the value of ` +
          `\`${type}\` is correct or it was registered as expected. More details can be found at ${CUSTOM_MODULE_DOC}` +
          suggest(type, this.typeNames),
        { registry: this.name, scope: this.scope, type },
      );
    }
    try {
      return builder(args) as R;
    } catch (e) {
      if (e instanceof RegistryError) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      const err = new RegistryError(`class \`${type}\` in ${this.scope}/${this.name}: ${msg}`, {
        registry: this.name,
        scope: this.scope,
        type,
      });
      (err as { cause?: unknown }).cause = e;
      throw err;
    }
  }
}

function describe(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/** Appends a "did you mean" hint when a registered name differs only by case or a small edit. */
function suggest(type: string, names: string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const d = n.toLowerCase() === type.toLowerCase() ? 0 : editDistance(n, type);
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(type.length / 4)) ? ` (did you mean \`${best}\`?)` : '';
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
