import { describeBackend } from '../../core/capabilities.ts';
import type { AdapterSummary } from '../../core/capabilities.ts';
import { useStudio } from '../../store/studio_store.ts';

function adapterName(a: AdapterSummary): string {
  return [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'unnamed adapter';
}

/**
 * The start-up notice about the compute backend: which WebGPU adapter was found, or why there is
 * none and what the CPU (WebAssembly) fallback means for the user.
 */
export function BackendNotice() {
  const caps = useStudio((s) => s.capabilities);
  const worker = {
    status: useStudio((s) => s.workerStatus),
    error: useStudio((s) => s.workerError),
    caps: useStudio((s) => s.workerCapabilities),
  };
  if (!caps) {
    return (
      <div className="notice notice-muted" role="status" data-testid="backend-notice" data-kind="detecting">
        Detecting WebGPU…
      </div>
    );
  }
  const workerLine =
    worker.status === 'failed' ? (
      <span className="notice-extra" data-testid="worker-status" data-status="failed">
        Web Workers could not start: {worker.error}
      </span>
    ) : worker.status === 'ready' && worker.caps ? (
      <span className="notice-extra" data-testid="worker-status" data-status="ready">
        Workers: {worker.caps.backend === 'webgpu' ? 'WebGPU available' : describeBackend(worker.caps)}.
      </span>
    ) : (
      <span className="notice-extra" data-testid="worker-status" data-status="starting">
        Checking Web Workers…
      </span>
    );

  if (caps.webgpu.available) {
    const a = caps.webgpu.adapter;
    return (
      <div className={`notice ${a.isFallbackAdapter ? 'notice-info' : 'notice-ok'}`} role="status" data-testid="backend-notice" data-kind="webgpu">
        <strong>WebGPU adapter found:</strong> {adapterName(a)}
        {a.isFallbackAdapter ? ' (software adapter). Correct but slow: use a hardware GPU for real fine-tuning.' : '. Training and inference run on the GPU.'}{' '}
        {workerLine}
      </div>
    );
  }
  return (
    <div className="notice notice-warn" role="alert" data-testid="backend-notice" data-kind="fallback">
      <strong>No WebGPU adapter.</strong> {caps.webgpu.reason} DetStudio falls back to the {describeBackend(caps)}: editing
      configs and browsing data work as usual; training and inference are much slower. For GPU speed, use a recent Chrome or
      Edge with WebGPU enabled. {workerLine}
    </div>
  );
}
