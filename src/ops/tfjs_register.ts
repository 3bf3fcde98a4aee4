/**
 * Side-effect imports every tfjs program of DetStudio needs exactly once: all gradient functions
 * (tfjs-core's ES build does not register them by itself) and the chained tensor methods
 * (`x.add(y)` …). Imported by the backend set-up, the workers, the CLI and the Vitest setup.
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
