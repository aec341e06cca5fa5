import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { startTheme } from './lib/theme';
import './styles.css';

// Before the first render, so the page never flashes in the wrong theme.
startTheme();

// A file dropped outside a drop zone must not replace the app with the file (the browser's default).
for (const type of ['dragover', 'drop'] as const) window.addEventListener(type, (event) => event.preventDefault());

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
