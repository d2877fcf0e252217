// Serves the built app (Vite's dist/) read-only: GET/HEAD, no directory listings, no dotfiles, no path
// that resolves outside the root, SPA fallback to index.html for extension-less paths.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

export function contentTypeFor(filePath: string): string {
  return CONTENT_TYPES[extname(filePath).toLowerCase()] ?? 'application/octet-stream';
}

/** Headers on every HTTP response of the server. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

export function sendText(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...COMMON_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache',
    ...headers,
  });
  res.end(body);
}

export type RequestPath = { ok: true; segments: string[] } | { ok: false; status: 400 };

/**
 * Decodes the path of a request target into safe segments. Rejects (400) anything that could climb
 * out of the root: `..` segments in raw or percent-encoded form, encoded slashes or backslashes, NUL.
 * Empty and `.` segments are dropped.
 */
export function parseRequestPath(target: string): RequestPath {
  const end = target.search(/[?#]/);
  const rawPath = end === -1 ? target : target.slice(0, end);
  if (!rawPath.startsWith('/')) return { ok: false, status: 400 };
  const segments: string[] = [];
  for (const raw of rawPath.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return { ok: false, status: 400 };
    }
    if (segment === '..' || /[/\\\0]/.test(segment)) return { ok: false, status: 400 };
    if (segment === '' || segment === '.') continue;
    segments.push(segment);
  }
  return { ok: true, segments };
}

async function isFileInside(root: string, filePath: string): Promise<boolean> {
  try {
    const info = await stat(filePath);
    if (!info.isFile()) return false;
    // Symlinks inside the root must not lead outside it either.
    const real = await realpath(filePath);
    return real.startsWith(root + sep);
  } catch {
    return false;
  }
}

export type StaticHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export async function createStaticHandler(staticDir: string): Promise<StaticHandler> {
  const root = await realpath(resolve(staticDir));
  const indexPath = resolve(root, 'index.html');

  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    const parsed = parseRequestPath(req.url ?? '');
    if (!parsed.ok) {
      sendText(res, parsed.status, 'bad request\n');
      return;
    }
    const { segments } = parsed;
    // Dotfiles (.env, .git) are never part of a build output worth serving.
    if (segments.some((s) => s.startsWith('.'))) {
      sendText(res, 404, 'not found\n');
      return;
    }
    const candidate = resolve(root, ...segments);
    if (candidate !== root && !candidate.startsWith(root + sep)) {
      sendText(res, 400, 'bad request\n');
      return;
    }
    let filePath: string | null = null;
    if (candidate !== root && (await isFileInside(root, candidate))) {
      filePath = candidate;
    } else {
      const last = segments[segments.length - 1] ?? '';
      // Client-side routes have no extension; missing assets (which do) must stay 404s.
      if (extname(last) === '' && (await isFileInside(root, indexPath))) filePath = indexPath;
    }
    if (filePath === null) {
      sendText(res, 404, 'not found\n');
      return;
    }
    await sendFile(req, res, filePath, filePath === indexPath);
  };
}

async function sendFile(req: IncomingMessage, res: ServerResponse, filePath: string, isIndex: boolean): Promise<void> {
  let size: number;
  try {
    size = (await stat(filePath)).size;
  } catch {
    sendText(res, 404, 'not found\n');
    return;
  }
  // Vite's assets/ names carry a content hash, so they can be cached forever; everything else is
  // revalidated so a rebuilt app is picked up on reload.
  const hashed = !isIndex && /[\\/]assets[\\/][^\\/]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/.test(filePath);
  res.writeHead(200, {
    ...COMMON_HEADERS,
    'Content-Type': contentTypeFor(filePath),
    'Content-Length': size,
    'Cache-Control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(filePath);
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}
