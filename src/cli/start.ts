// `aegis start`: build the app when its sources are newer than dist/, then serve it together with the
// signaling server, and print the addresses (and a QR code) that phones on the LAN can open.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { networkInterfaces } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSignalingServer } from '../../signaling-server/server.ts';
import { loadOrCreateCertificate } from '../../signaling-server/tls.ts';
import type { TlsOptions } from '../../signaling-server/types.ts';

export interface StartArgs {
  port: number;
  host: string;
  https: boolean;
  /** Open the first URL in the default browser. */
  open?: boolean;
  /** DNS names browsers may reach the server by, besides localhost and IP addresses (`--allow-host`). */
  allowedHosts?: readonly string[];
  /** Page origins besides the server's own that may open the signaling socket (`--allow-origin`). */
  allowedOrigins?: readonly string[];
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '0.0.0.0';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Non-internal IPv4 addresses of this machine: what other devices on the LAN can reach. */
export function lanAddresses(): string[] {
  const out: string[] = [];
  for (const infos of Object.values(networkInterfaces())) {
    for (const info of infos ?? []) {
      if (info.family === 'IPv4' && !info.internal) out.push(info.address);
    }
  }
  return out;
}

const isWildcard = (host: string): boolean => host === '0.0.0.0' || host === '::' || host === '';

/** The URLs to print: localhost plus every LAN address for a wildcard bind, else the host itself. */
export function urlsFor(host: string, port: number, secure: boolean, lan: readonly string[]): string[] {
  const scheme = secure ? 'https' : 'http';
  const hosts = isWildcard(host) ? ['localhost', ...lan] : [host.includes(':') ? `[${host}]` : host];
  return hosts.map((h) => `${scheme}://${h}:${port}/`);
}

function newestMtimeMs(path: string): number {
  let info;
  try {
    info = statSync(path);
  } catch {
    return 0;
  }
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs; // a deleted file changes its directory's mtime
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  }
  return newest;
}

/** True when dist/index.html is missing or older than anything the build reads. */
export function needsBuild(root: string = PROJECT_ROOT): boolean {
  const built = newestMtimeMs(join(root, 'dist', 'index.html'));
  if (built === 0) return true;
  const inputs = ['src', 'index.html', 'public', 'vite.config.ts'].map((p) => newestMtimeMs(join(root, p)));
  return Math.max(...inputs) > built;
}

async function buildApp(root: string): Promise<void> {
  const started = Date.now();
  console.log('Building the app (vite build)…');
  // Loaded only when needed: vite is large and most starts find dist/ up to date.
  const { build } = await import('vite');
  await build({ configFile: join(root, 'vite.config.ts'), root, logLevel: 'warn' });
  console.log(`Built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function printQr(url: string): void {
  // qrcode-terminal is CommonJS without types; its whole API is this one function.
  const require = createRequire(import.meta.url);
  const qr = require('qrcode-terminal') as {
    generate(text: string, opts: { small: boolean }, cb: (out: string) => void): void;
  };
  qr.generate(url, { small: true }, (out) => console.log(out));
}

function openInBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => console.log(`(could not open a browser; open ${url} yourself)`));
    child.unref();
  } catch {
    console.log(`(could not open a browser; open ${url} yourself)`);
  }
}

export async function runStart(args: StartArgs): Promise<void> {
  const root = PROJECT_ROOT;
  if (needsBuild(root)) await buildApp(root);
  else console.log('dist/ is up to date.');

  const lan = lanAddresses();
  let tls: TlsOptions | undefined;
  if (args.https) {
    const certHosts = isWildcard(args.host) ? ['localhost', '127.0.0.1', ...lan] : [args.host];
    tls = await loadOrCreateCertificate(join(root, '.aegis', 'tls'), certHosts);
  }

  const server = await createSignalingServer({
    port: args.port,
    host: args.host,
    staticDir: join(root, 'dist'),
    ...(tls !== undefined ? { tls } : {}),
    allowedHosts: args.allowedHosts ?? [],
    allowedOrigins: args.allowedOrigins ?? [],
  });

  // Installed before anything is printed, so a Ctrl+C right after the banner is never the default kill.
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));

  const urls = urlsFor(args.host, server.port, args.https, lan);
  console.log('\nAegis is running. Open on this machine or any device on the same network:');
  for (const url of urls) console.log(`  ${url}`);
  console.log(`(signaling on the same origin: ${args.https ? 'wss' : 'ws'}://<host>:${server.port}/signal)`);
  const qrUrl = urls.find((u) => !u.includes('://localhost')) ?? urls[0];
  if (qrUrl !== undefined) {
    console.log(`\nScan to open ${qrUrl}:`);
    printQr(qrUrl);
  }
  if (args.https) {
    console.log('The certificate is self-signed (kept in .aegis/tls/): accept the browser warning once per device.');
  } else {
    console.log(
      'Note: phones need --https for WebCrypto (http://<LAN IP> is not a secure context);\n' +
        'without it the app falls back to the slower noble implementations.',
    );
  }
  console.log('Press Ctrl+C to stop.');
  if (args.open === true && urls[0] !== undefined) openInBrowser(urls[0]);
}
