import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { z } from 'zod';
import { App } from './App.js';
import { startSession } from './store/session.js';
import './styles.css';

// The page's CSP forbids eval: tell zod not to probe for it (a probe is reported as a violation).
z.config({ jitless: true });

// Connect first: it takes the token out of the URL before the router reads the fragment.
startSession();

const root = document.getElementById('root');
if (!root) throw new Error('The page has no #root element.');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
