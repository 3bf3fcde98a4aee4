// Node ESM resolve hook: makes every `@tensorflow/tfjs-*` import resolve to the package's ES module
// build ("module" field) and fixes the extensionless/directory relative imports inside those builds,
// so Node loads ONE copy of tfjs-core (with its gradient registry) as the browser build does.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const TFJS = /^@tensorflow\/(tfjs-[a-z-]+)(\/.*)?$/;

function pkgRoot(name) {
  return dirname(require.resolve(`@tensorflow/${name}/package.json`));
}

function fixFile(path) {
  if (existsSync(path) && statSync(path).isFile()) return path;
  if (existsSync(`${path}.js`)) return `${path}.js`;
  if (existsSync(join(path, 'index.js'))) return join(path, 'index.js');
  return null;
}

export async function resolve(specifier, context, next) {
  const m = TFJS.exec(specifier);
  if (m) {
    const root = pkgRoot(m[1]);
    let target;
    if (!m[2]) {
      const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
      target = join(root, pkg.module ?? pkg.main);
    } else {
      target = fixFile(join(root, m[2]));
    }
    if (target) return { url: pathToFileURL(target).href, format: 'module', shortCircuit: true };
  }
  const parent = context.parentURL;
  if (specifier === 'seedrandom' && parent && parent.includes('/@tensorflow/tfjs-')) {
    return { url: new URL('./shims/seedrandom.mjs', import.meta.url).href, format: 'module', shortCircuit: true };
  }
  if (parent && parent.includes('/@tensorflow/tfjs-') && (specifier.startsWith('./') || specifier.startsWith('../'))) {
    const target = fixFile(join(dirname(fileURLToPath(parent)), specifier));
    // The ES builds live in dist/; the emscripten glue in wasm-out/ is CommonJS.
    const format = target && target.includes('/wasm-out/') ? 'commonjs' : 'module';
    if (target) return { url: pathToFileURL(target).href, format, shortCircuit: true };
  }
  return next(specifier, context);
}
