// Chromium flags for WebRTC between headless tabs on loopback (measured on these machines):
// without a media permission Chromium gathers no host candidates, and without the loopback flag it
// skips 127.0.0.1, so no data channel would open.
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

export const E2E_PORT = Number(process.env['AEGIS_E2E_PORT'] ?? 8787);
export const E2E_BASE_URL = `http://127.0.0.1:${E2E_PORT}`;
