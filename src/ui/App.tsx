import { useEffect } from 'react';
import { useStudio } from '../store/studio_store.ts';
import { BackendNotice } from './components/BackendNotice.tsx';
import { ComingPane } from './components/ComingPane.tsx';
import { Header } from './components/Header.tsx';
import { NavRail } from './components/NavRail.tsx';
import { DatasetPane } from './features/dataset/DatasetPane.tsx';
import { CheckpointsPane } from './features/checkpoints/CheckpointsPane.tsx';
import { ConfigPane } from './features/editor/ConfigPane.tsx';
import { ExportPane } from './features/export/ExportPane.tsx';
import { PredictionsPane } from './features/predictions/PredictionsPane.tsx';
import { TrainingPane } from './features/training/TrainingPane.tsx';
import { installWeightsDrop } from './features/training/training_bridge.ts';
import { PANE_INFO } from './pane_info.ts';

/** The studio: header, backend notice, navigation and the active pane. */
export function App() {
  const active = useStudio((s) => s.activePane);
  const info = PANE_INFO.find((p) => p.id === active) ?? PANE_INFO[0]!;
  // A .pth / .safetensors dropped anywhere becomes an imported weights file (load_from).
  useEffect(() => installWeightsDrop(), []);
  return (
    <div className="app" data-testid="studio">
      <Header />
      <BackendNotice />
      <div className="app-body">
        <NavRail />
        <main className="app-main" role="tabpanel" aria-labelledby={`tab-${active}`} id={`pane-${active}`}>
          {active === 'config' ? (
            <ConfigPane />
          ) : active === 'dataset' ? (
            <DatasetPane />
          ) : active === 'training' ? (
            <TrainingPane />
          ) : active === 'checkpoints' ? (
            <CheckpointsPane />
          ) : active === 'export' ? (
            <ExportPane />
          ) : active === 'predictions' ? (
            <PredictionsPane />
          ) : (
            <ComingPane info={info} />
          )}
        </main>
      </div>
    </div>
  );
}
