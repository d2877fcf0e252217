// A self-signed certificate for serving the app over https on a LAN: phones only expose WebCrypto
// (crypto.subtle) in secure contexts, and http://<lan-ip> is not one. The certificate is kept under
// `dir` and reused while it is valid and covers every requested host, so a browser exception granted
// once keeps working across restarts.
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { TlsOptions } from './types.ts';

const KEY_FILE = 'key.pem';
const CERT_FILE = 'cert.pem';
const VALIDITY_DAYS = 365;
/** Regenerate a little before expiry rather than fail in the middle of a session. */
const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;

/** Hosts a local certificate always covers. */
export const DEFAULT_CERT_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

function covers(cert: X509Certificate, host: string): boolean {
  return isIP(host) !== 0 ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
}

function readUsable(dir: string, hosts: readonly string[], nowMs: number): TlsOptions | null {
  try {
    const key = readFileSync(join(dir, KEY_FILE), 'utf8');
    const cert = readFileSync(join(dir, CERT_FILE), 'utf8');
    const x509 = new X509Certificate(cert);
    if (Date.parse(x509.validTo) - RENEW_BEFORE_MS < nowMs) return null;
    if (Date.parse(x509.validFrom) > nowMs) return null;
    if (!hosts.every((h) => covers(x509, h))) return null;
    return { key, cert };
  } catch {
    return null;
  }
}

/**
 * Loads `key.pem`/`cert.pem` from `dir`, or creates them (EC P-256, SHA-256, one year) with every
 * host in `hosts` plus localhost as subjectAltNames. Regenerates when the stored certificate is
 * expiring or misses a host (e.g. the LAN address changed).
 */
export async function loadOrCreateCertificate(dir: string, hosts: readonly string[]): Promise<TlsOptions> {
  const all = [...new Set([...DEFAULT_CERT_HOSTS, ...hosts])];
  const now = Date.now();
  const existing = readUsable(dir, all, now);
  if (existing) return existing;

  const notBeforeDate = new Date(now - 60_000); // tolerate small clock skew on clients
  const notAfterDate = new Date(now + VALIDITY_DAYS * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: 'Aegis local server' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: all.map((h) => (isIP(h) !== 0 ? { type: 7 as const, ip: h } : { type: 2 as const, value: h })),
      },
    ],
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, KEY_FILE);
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  chmodSync(keyPath, 0o600); // mode is ignored when the file already existed
  writeFileSync(join(dir, CERT_FILE), pems.cert);
  return { key: pems.private, cert: pems.cert };
}
