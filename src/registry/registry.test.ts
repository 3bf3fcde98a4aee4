import { describe, expect, it } from 'vitest';
import { Registry, RegistryError } from './registry';

class Foo {
  constructor(readonly args: Record<string, unknown>) {}
}

describe('Registry', () => {
  const reg = new Registry<Foo>('model');
  reg.register('Foo', (a) => new Foo(a));

  it('builds with default args and pops type', () => {
    const f = reg.build({ type: 'Foo', a: 1 }, { a: 0, b: 2 });
    expect(f.args).toEqual({ a: 1, b: 2 });
  });

  it('does not mutate cfg', () => {
    const cfg = { type: 'Foo', a: 1 };
    reg.build(cfg);
    expect(cfg).toEqual({ type: 'Foo', a: 1 });
  });

  it('raises the MMEngine-style error on unknown type', () => {
    expect(() => reg.build({ type: 'Fooo' })).toThrowError(
      /Fooo is not in the mmdet::model registry\. Please check whether the value of `Fooo` is correct.*did you mean `Foo`/,
    );
    try {
      reg.build({ type: 'Bar' });
    } catch (e) {
      expect(e).toBeInstanceOf(RegistryError);
      expect((e as RegistryError).details).toEqual({ registry: 'model', scope: 'mmdet', type: 'Bar' });
    }
  });

  it('requires a type key', () => {
    expect(() => reg.build({ a: 1 })).toThrowError(/must contain the key "type"/);
  });

  it('refuses duplicate registration', () => {
    expect(() => reg.register('Foo', (a) => new Foo(a))).toThrowError(/already registered/);
  });

  it('lists type names', () => {
    expect(reg.typeNames).toEqual(['Foo']);
  });
});
