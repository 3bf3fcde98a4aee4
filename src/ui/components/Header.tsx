import { useStudio } from '../../store/studio_store.ts';
import { BackendBadge } from './BackendBadge.tsx';

/** The top bar: product name, what it does, backend and isolation status. */
export function Header() {
  const isolated = useStudio((s) => s.capabilities?.crossOriginIsolated);
  return (
    <header className="app-header">
      <div className="brand">
        <svg className="brand-mark" viewBox="0 0 32 32" aria-hidden="true">
          <rect x="6" y="7" width="13" height="11" rx="1.5" fill="none" stroke="#4cc2ff" strokeWidth="2.4" />
          <rect x="13" y="14" width="13" height="11" rx="1.5" fill="none" stroke="#ffb547" strokeWidth="2.4" />
        </svg>
        <span className="brand-name">DetStudio</span>
        <span className="brand-tag">Fine-tune MMDetection detectors in your browser</span>
      </div>
      <div className="header-status">
        {isolated !== undefined && (
          <span className={`badge ${isolated ? 'badge-muted' : 'badge-warn'}`} title="Cross-origin isolation enables SharedArrayBuffer and multi-threaded WebAssembly">
            {isolated ? 'Isolated' : 'Not isolated'}
          </span>
        )}
        <BackendBadge />
      </div>
    </header>
  );
}
