import { describeBackend } from '../../core/capabilities.ts';
import { useStudio } from '../../store/studio_store.ts';

/** The compact backend indicator in the header (WebGPU / CPU fallback / detecting). */
export function BackendBadge() {
  const caps = useStudio((s) => s.capabilities);
  if (!caps) {
    return (
      <span className="badge badge-muted" data-testid="backend-badge" data-backend="detecting">
        <span className="dot" /> Detecting backend…
      </span>
    );
  }
  const tone = caps.backend === 'webgpu' ? (caps.webgpu.available && caps.webgpu.adapter.isFallbackAdapter ? 'badge-info' : 'badge-ok') : 'badge-warn';
  return (
    <span className={`badge ${tone}`} data-testid="backend-badge" data-backend={caps.backend} title={describeBackend(caps)}>
      <span className="dot" /> {caps.backend === 'webgpu' ? 'WebGPU' : caps.backend === 'wasm' ? 'CPU · WebAssembly' : 'CPU · JavaScript'}
    </span>
  );
}
