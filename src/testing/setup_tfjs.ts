// Vitest setup: registers tfjs gradients and chained ops in every test worker.
import '../ops/tfjs_register';
