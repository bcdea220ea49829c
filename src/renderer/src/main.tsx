import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { TransportProvider } from './api/context';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <TransportProvider>
      <App />
    </TransportProvider>
  </StrictMode>,
);
