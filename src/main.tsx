/**
 * Browser entry: mounts the studio, then starts capability detection and the training worker.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App.tsx';
import { bootStudio } from './ui/boot.ts';
import { installEndToEndApi } from './ui/e2e_api.ts';
import './ui/styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
installEndToEndApi();
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
void bootStudio();
