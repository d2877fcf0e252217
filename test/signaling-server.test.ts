// The signaling server against real sockets on 127.0.0.1: membership, relay isolation, abuse
// (garbage, oversize, floods, dead sockets) and static files. Every abuse test also checks that a
// well-behaved pair of clients keeps joining and relaying.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ClientOptions } from 'ws';
import { parseClientMessage } from '../signaling-server/protocol.ts';
import { RateLimiter, TokenBucket } from '../signaling-server/rate-limit.ts';
import { createSignalingServer, hostHeaderName } from '../signaling-server/server.ts';
import { parseRequestPath } from '../signaling-server/static-files.ts';
import { loadOrCreateCertificate } from '../signaling-server/tls.ts';
import type { SignalingServer, SignalingServerOptions } from '../signaling-server/types.ts';
import { main } from '../src/cli/main.ts';
import { captureCliOutput } from './cli-output.ts';

type Msg = Record<string, unknown>;

const servers: SignalingServer[] = [];
const clients: TestClient[] = [];
const tempDirs: string[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function startServer(options: SignalingServerOptions = {}): Promise<SignalingServer> {
  const server = await createSignalingServer({ host: '127.0.0.1', port: 0, ...options });
  servers.push(server);
  return server;
}

const peerId = (): string => randomBytes(16).toString('hex');
const roomName = (): string => `room-${randomBytes(4).toString('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw ws client that queues parsed frames and lets a test await specific ones. */
class TestClient {
  readonly queue: Msg[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private wake: (() => void) | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      this.queue.push(isBinary ? { binary: true } : (JSON.parse(String(data)) as Msg));
      this.wake?.();
    });
    ws.on('error', () => {});
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  static async open(url: string, options: ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, options);
    const client = new TestClient(ws);
    clients.push(client);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Removes and returns the first queued frame matching `pred`, waiting up to `timeoutMs`. */
  async next(pred: (m: Msg) => boolean = () => true, timeoutMs = 2000): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.queue.findIndex(pred);
      if (i !== -1) return this.queue.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; queue: ${JSON.stringify(this.queue).slice(0, 300)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  nextOfType(type: string, timeoutMs?: number): Promise<Msg> {
    return this.next((m) => m['type'] === type, timeoutMs);
  }

  async expectError(code: string, timeoutMs?: number): Promise<void> {
    const m = await this.next((x) => x['type'] === 'error', timeoutMs);
    expect(m['code'], `error for expected code ${code}`).toBe(code);
    expect(typeof m['message']).toBe('string');
  }

  async join(room: string, id: string): Promise<Msg> {
    this.send({ type: 'join', room, peerId: id });
    return this.next((m) => m['type'] === 'joined' || m['type'] === 'error');
  }
}

async function joined(url: string, room: string, id = peerId(), options?: ClientOptions): Promise<{ c: TestClient; id: string; peers: string[] }> {
  const c = await TestClient.open(url, options);
  const m = await c.join(room, id);
  expect(m).toMatchObject({ type: 'joined', room, peerId: id });
  return { c, id, peers: m['peers'] as string[] };
}

/** Two fresh well-behaved clients join a fresh room and exchange a signal both ways. */
async function assertRelayWorks(url: string): Promise<void> {
  const room = roomName();
  const a = await joined(url, room);
  const b = await joined(url, room);
  expect(b.peers).toEqual([a.id]);
  await a.c.nextOfType('peer-joined');
  const payload = { sdp: `v=0 ${randomBytes(4).toString('hex')}`, n: [1, 2, 3] };
  a.c.send({ type: 'signal', to: b.id, data: payload });
  expect(await b.c.nextOfType('signal')).toEqual({ type: 'signal', from: a.id, data: payload });
  b.c.send({ type: 'signal', to: a.id, data: 'back' });
  expect(await a.c.nextOfType('signal')).toEqual({ type: 'signal', from: b.id, data: 'back' });
  a.c.ws.close();
  b.c.ws.close();
}

interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(base: string, path: string, method = 'GET'): Promise<HttpResult> {
  const url = new URL(base);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // `path` goes on the wire as given: no client-side normalisation of `..`.
    const req = request(
      { host: url.hostname, port: url.port, path, method, rejectUnauthorized: false, timeout: 3000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

describe('pure parts', () => {
  it('parses client messages and names the right error code', () => {
    const id = 'a'.repeat(32);
    expect(parseClientMessage(JSON.stringify({ type: 'join', room: 'r', peerId: id }))).toEqual({
      ok: true,
      message: { type: 'join', room: 'r', peerId: id },
    });
    const code = (text: string) => {
      const r = parseClientMessage(text);
      return r.ok ? 'ok' : r.error.code;
    };
    expect(code('nope')).toBe('malformed');
    expect(code('null')).toBe('malformed');
    expect(code('[1]')).toBe('malformed');
    expect(code('{"type":"join","room":"r"}')).toBe('malformed');
    expect(code(`{"type":"join","room":"${'r'.repeat(65)}","peerId":"${id}"}`)).toBe('bad-room');
    expect(code(`{"type":"join","room":"r","peerId":"${id.toUpperCase()}"}`)).toBe('bad-peer-id');
    expect(code(`{"type":"signal","to":"${id}"}`)).toBe('malformed');
    expect(code(`{"type":"signal","to":"${id}","data":null}`)).toBe('ok');
    expect(code('{"type":"hello"}')).toBe('unknown-type');
    expect(code('{"__proto__":{"type":"ping"}}')).toBe('malformed');
  });

  it('token bucket allows the burst, then the refill rate', () => {
    const b = new TokenBucket(10, 5, 0);
    let taken = 0;
    for (let i = 0; i < 20; i++) if (b.take(0)) taken++;
    expect(taken).toBe(5);
    expect(b.take(50)).toBe(false); // half a token
    expect(b.take(100)).toBe(true);
    const limiter = new RateLimiter(10, 5, 0);
    const decisions = Array.from({ length: 60 }, () => limiter.check(0));
    expect(decisions.filter((d) => d === 'ok')).toHaveLength(5);
    expect(decisions.filter((d) => d === 'limited')).toHaveLength(45);
    expect(decisions.slice(50).every((d) => d === 'abuse')).toBe(true);
    expect(limiter.shouldNotify(0)).toBe(true);
    expect(limiter.shouldNotify(999)).toBe(false);
    expect(limiter.shouldNotify(1000)).toBe(true);
  });

  it('request paths never climb out of the root', () => {
    expect(parseRequestPath('/a/./b//c?x=../..')).toEqual({ ok: true, segments: ['a', 'b', 'c'] });
    for (const bad of ['/../x', '/a/../../x', '/%2e%2e/x', '/%2E%2E%2Fx', '/..%5cx', '/a%00', '/%zz', 'x']) {
      expect(parseRequestPath(bad), bad).toEqual({ ok: false, status: 400 });
    }
  });
});

describe('signaling server', () => {
  it('joins rooms and reports peer lists', async () => {
    const server = await startServer();
    const room = roomName();
    const a = await joined(server.url, room);
    expect(a.peers).toEqual([]);
    const b = await joined(server.url, room);
    expect(b.peers).toEqual([a.id]);
    expect(await a.c.nextOfType('peer-joined')).toEqual({ type: 'peer-joined', peerId: b.id });
    const c = await joined(server.url, room);
    expect([...c.peers].sort()).toEqual([a.id, b.id].sort());
    expect(await a.c.nextOfType('peer-joined')).toEqual({ type: 'peer-joined', peerId: c.id });
    expect(await b.c.nextOfType('peer-joined')).toEqual({ type: 'peer-joined', peerId: c.id });
    // The same id may be used in another room.
    const other = await joined(server.url, roomName(), a.id);
    expect(other.peers).toEqual([]);
    expect(server.stats()).toMatchObject({ connections: 4, rooms: 2, peers: 4 });
    a.c.send({ type: 'ping' });
    expect(await a.c.nextOfType('pong')).toEqual({ type: 'pong' });
    a.c.send({ type: 'join', room, peerId: peerId() });
    await a.c.expectError('already-joined');
  });

  it('relays a signal only to the named peer of the same room', async () => {
    const server = await startServer();
    const roomA = roomName();
    const roomB = roomName();
    const a1 = await joined(server.url, roomA);
    const a2 = await joined(server.url, roomA);
    const a3 = await joined(server.url, roomA);
    const b1 = await joined(server.url, roomB);
    const b2 = await joined(server.url, roomB, a2.id); // same id as a2, other room

    a1.c.send({ type: 'signal', to: a2.id, data: { secret: 1 } });
    expect(await a2.c.nextOfType('signal')).toEqual({ type: 'signal', from: a1.id, data: { secret: 1 } });
    a1.c.send({ type: 'signal', to: b1.id, data: 'x' });
    await a1.c.expectError('unknown-peer');
    a1.c.send({ type: 'signal', to: a1.id, data: 'self' });
    await a1.c.expectError('unknown-peer');

    // Markers sent after the relay: each receiver's first signal must be its marker, so nothing else
    // reached it.
    a1.c.send({ type: 'signal', to: a3.id, data: 'marker-a3' });
    b1.c.send({ type: 'signal', to: b2.id, data: 'marker-b2' });
    b2.c.send({ type: 'signal', to: b1.id, data: 'marker-b1' });
    expect((await a3.c.nextOfType('signal'))['data']).toBe('marker-a3');
    expect((await b2.c.nextOfType('signal'))['data']).toBe('marker-b2');
    expect((await b1.c.nextOfType('signal'))['data']).toBe('marker-b1');
    expect(server.stats().relayed).toBe(4);
  });

  it('rejects signals before join and leaves on request', async () => {
    const server = await startServer();
    const c = await TestClient.open(server.url);
    c.send({ type: 'signal', to: peerId(), data: 1 });
    await c.expectError('not-joined');
    c.send({ type: 'leave' });
    await c.expectError('not-joined');
    const room = roomName();
    const a = await joined(server.url, room);
    const b = await joined(server.url, room);
    b.c.send({ type: 'leave' });
    expect(await a.c.nextOfType('peer-left')).toEqual({ type: 'peer-left', peerId: b.id });
    b.c.send({ type: 'signal', to: a.id, data: 1 });
    await b.c.expectError('not-joined');
    b.c.send({ type: 'join', room, peerId: b.id });
    await b.c.expectError('already-joined');
    expect(server.stats()).toMatchObject({ peers: 1, rooms: 1 });
  });

  it('sends peer-left within 1 s of a close or an abrupt disconnect', async () => {
    const server = await startServer();
    const room = roomName();
    const a = await joined(server.url, room);
    const b = await joined(server.url, room);
    const c = await joined(server.url, room);
    b.c.ws.close();
    expect(await a.c.nextOfType('peer-left', 1000)).toEqual({ type: 'peer-left', peerId: b.id });
    c.c.ws.terminate(); // TCP reset, no close frame
    expect(await a.c.nextOfType('peer-left', 1000)).toEqual({ type: 'peer-left', peerId: c.id });
    await sleep(50);
    expect(server.stats()).toMatchObject({ connections: 1, peers: 1 });
  });

  it('answers garbage with error frames and keeps serving others', async () => {
    const server = await startServer({ limits: { messagesPerSecond: 100_000, burst: 100_000 } });
    const abuser = await TestClient.open(server.url);
    const id = peerId();
    const cases: Array<[unknown, string]> = [
      ['not json', 'malformed'],
      ['{"type":"join"', 'malformed'],
      ['', 'malformed'],
      ['null', 'malformed'],
      ['[]', 'malformed'],
      ['[{"type":"ping"}]', 'malformed'],
      ['"ping"', 'malformed'],
      ['1e400', 'malformed'],
      ['123456789012345678901234567890', 'malformed'],
      ['true', 'malformed'],
      [{}, 'malformed'],
      [{ type: 7 }, 'malformed'],
      [{ type: null }, 'malformed'],
      [{ type: ['join'] }, 'malformed'],
      [{ type: 'hello' }, 'unknown-type'],
      [{ type: 'JOIN' }, 'unknown-type'],
      [{ type: 'constructor' }, 'unknown-type'],
      [{ type: '__proto__' }, 'unknown-type'],
      ['{"__proto__":{"type":"ping"}}', 'malformed'],
      [{ type: 'join', room: 5, peerId: id }, 'malformed'],
      [{ type: 'join', room: 'r', peerId: 1e308 }, 'malformed'],
      ['{"type":"join","room":"r","peerId":1e999}', 'malformed'],
      [{ type: 'join', room: 'r', peerId: { id } }, 'malformed'],
      [{ type: 'join', room: '', peerId: id }, 'bad-room'],
      [{ type: 'join', room: 'has space', peerId: id }, 'bad-room'],
      [{ type: 'join', room: '../etc', peerId: id }, 'bad-room'],
      [{ type: 'join', room: 'x'.repeat(65), peerId: id }, 'bad-room'],
      [{ type: 'join', room: 'r', peerId: id.toUpperCase() }, 'bad-peer-id'],
      [{ type: 'join', room: 'r', peerId: id + '0' }, 'bad-peer-id'],
      [{ type: 'signal', to: 1, data: 'x' }, 'malformed'],
      [{ type: 'signal', to: id }, 'malformed'],
      [{ type: 'signal', to: 'zz', data: 'x' }, 'bad-peer-id'],
      [{ type: 'signal', to: id, data: 'x' }, 'not-joined'],
      [`{"type":"signal","to":"${id}","data":${'['.repeat(20_000)}${']'.repeat(20_000)}}`, 'not-joined'],
    ];
    for (const [frame, code] of cases) {
      abuser.send(frame);
      await abuser.expectError(code);
    }
    await assertRelayWorks(server.url);

    // Binary frames are refused without being parsed.
    abuser.ws.send(Buffer.from(JSON.stringify({ type: 'ping' })), { binary: true });
    await abuser.expectError('malformed');

    // 1000 random binary frames and 1000 random text frames, interleaved with honest traffic.
    const honest = assertRelayWorks(server.url);
    for (let i = 0; i < 1000; i++) {
      abuser.ws.send(randomBytes(1 + (i % 200)), { binary: true });
      const chars = Array.from({ length: 1 + (i % 50) }, () => String.fromCharCode(Math.floor(Math.random() * 0x10000)));
      abuser.send(chars.join(''));
    }
    await honest;
    for (let i = 0; i < 2000; i++) await abuser.expectError('malformed');
    expect(abuser.queue).toEqual([]);

    // Deeply nested data that cannot be relayed is refused, not crashed on.
    const room = roomName();
    await abuser.join(room, id);
    const peer = await joined(server.url, room);
    abuser.send(`{"type":"signal","to":"${peer.id}","data":${'['.repeat(30_000)}${']'.repeat(30_000)}}`);
    const reply = await abuser.next((m) => m['type'] === 'error', 2000).catch(() => null);
    const relayed = peer.c.queue.find((m) => m['type'] === 'signal');
    expect(reply !== null || relayed !== undefined).toBe(true);

    // Invalid UTF-8 in a text frame: ws closes that socket with 1007; nobody else is affected.
    abuser.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await abuser.closed).code).toBe(1007);
    await assertRelayWorks(server.url);
    expect(server.stats().errors['malformed']).toBeGreaterThanOrEqual(2000);
  });

  it('closes a socket that sends an oversize frame with 1009', async () => {
    const server = await startServer({ limits: { maxFrameBytes: 1024 } });
    const room = roomName();
    const good = await joined(server.url, room);
    const abuser = await joined(server.url, room);
    abuser.c.send({ type: 'signal', to: good.id, data: 'x'.repeat(2000) });
    const closed = await abuser.c.closed;
    expect(closed.code).toBe(1009);
    expect(await good.c.nextOfType('peer-left', 1000)).toEqual({ type: 'peer-left', peerId: abuser.id });
    expect(good.c.queue.some((m) => m['type'] === 'signal')).toBe(false);
    expect(server.stats().closedForAbuse).toBe(1);
    await assertRelayWorks(server.url);
  });

  it('rate-limits a flood, closes the flooder with 1008, and others are unaffected', async () => {
    const server = await startServer(); // default limits: 50/s, burst 100
    const room = roomName();
    const watcher = await joined(server.url, room);
    const flooder = await joined(server.url, room);
    const started = Date.now();
    for (let i = 0; i < 2000 && flooder.c.ws.readyState === WebSocket.OPEN; i++) flooder.c.send({ type: 'ping' });
    // Honest traffic during the flood.
    await assertRelayWorks(server.url);
    const closed = await flooder.c.closed;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(closed).toEqual({ code: 1008, reason: 'rate limit' });
    const pongs = flooder.c.queue.filter((m) => m['type'] === 'pong').length;
    const limited = flooder.c.queue.filter((m) => m['type'] === 'error' && m['code'] === 'rate-limited').length;
    expect(pongs).toBeGreaterThanOrEqual(99); // the burst, less the token the join took
    expect(pongs).toBeLessThanOrEqual(150); // plus what refills in the flood's few ms
    expect(limited).toBeGreaterThanOrEqual(1);
    expect(limited).toBeLessThanOrEqual(2); // at most one per second: no amplification
    expect(await watcher.c.nextOfType('peer-left', 1000)).toEqual({ type: 'peer-left', peerId: flooder.id });
    expect(server.stats().closedForAbuse).toBe(1);
    expect(server.stats().errors['rate-limited']).toBeGreaterThan(100);
    await assertRelayWorks(server.url);
  });

  it('drops a receiver that stops reading instead of buffering for it', async () => {
    const server = await startServer({ limits: { maxFrameBytes: 8192, messagesPerSecond: 1e6, burst: 1e6 } });
    const room = roomName();
    const sender = await joined(server.url, room);
    const stalled = await joined(server.url, room);
    await sender.c.nextOfType('peer-joined');
    // Stop reading at the TCP level: the kernel buffers fill, then the server's send buffer grows.
    (stalled.c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const chunk = 'x'.repeat(8000);
    let sentBytes = 0;
    while (!sender.c.queue.some((m) => m['type'] === 'peer-left') && sentBytes < 64 * 1024 * 1024) {
      for (let i = 0; i < 256; i++) sender.c.send({ type: 'signal', to: stalled.id, data: chunk });
      sentBytes += 256 * chunk.length;
      await sleep(5);
    }
    expect(await sender.c.nextOfType('peer-left', 2000)).toEqual({ type: 'peer-left', peerId: stalled.id });
    expect(server.stats().closedForAbuse).toBe(1);
    await assertRelayWorks(server.url);
  });

  it('enforces room size and room count, and never evicts the holder of an id', async () => {
    const server = await startServer({ limits: { maxPeersPerRoom: 2, maxRooms: 2 } });
    const room = roomName();
    const a = await joined(server.url, room);
    const b = await joined(server.url, room);
    const full = await TestClient.open(server.url);
    expect(await full.join(room, peerId())).toMatchObject({ type: 'error', code: 'room-full' });

    const impostor = await TestClient.open(server.url);
    expect(await impostor.join(room, a.id)).toMatchObject({ type: 'error', code: 'id-taken' });
    b.c.send({ type: 'signal', to: a.id, data: 'still yours' });
    expect(await a.c.nextOfType('signal')).toEqual({ type: 'signal', from: b.id, data: 'still yours' });
    expect(impostor.queue).toEqual([]);

    await joined(server.url, roomName());
    const third = await TestClient.open(server.url);
    expect(await third.join(roomName(), peerId())).toMatchObject({ type: 'error', code: 'too-many-rooms' });
    expect(server.stats().errors).toMatchObject({ 'room-full': 1, 'id-taken': 1, 'too-many-rooms': 1 });
  });

  it('id-taken within a room even when the holder is idle', async () => {
    const server = await startServer();
    const room = roomName();
    const holder = await joined(server.url, room);
    const other = await joined(server.url, room);
    const second = await TestClient.open(server.url);
    expect(await second.join(room, holder.id)).toMatchObject({ type: 'error', code: 'id-taken' });
    expect(other.c.queue.filter((m) => m['type'] === 'peer-left')).toEqual([]);
    expect(server.stats()).toMatchObject({ peers: 2 });
  });

  it('drops a socket that stops answering heartbeat pings and tells the room', async () => {
    const server = await startServer({ limits: { heartbeatIntervalMs: 100 } });
    const room = roomName();
    const watcher = await joined(server.url, room);
    // autoPong: false makes this client ignore the server's pings, like a peer whose network vanished.
    const dead = await joined(server.url, room, peerId(), { autoPong: false });
    const started = Date.now();
    expect(await watcher.c.nextOfType('peer-left', 1500)).toEqual({ type: 'peer-left', peerId: dead.id });
    expect(Date.now() - started).toBeLessThan(1000);
    // The watcher answers pings (ws does by default) and is still there.
    await sleep(300);
    watcher.c.send({ type: 'ping' });
    expect(await watcher.c.nextOfType('pong')).toEqual({ type: 'pong' });
    expect(server.stats()).toMatchObject({ peers: 1 });
  });

  it('closes connections that stay silent or never join', async () => {
    const server = await startServer({ limits: { idleTimeoutMs: 300, joinTimeoutMs: 200, heartbeatIntervalMs: 100 } });
    const neverJoins = await TestClient.open(server.url);
    const silent = await joined(server.url, roomName());
    const chatty = await joined(server.url, roomName());
    const pinger = setInterval(() => chatty.c.send({ type: 'ping' }), 100);
    try {
      expect(await neverJoins.closed).toEqual({ code: 4000, reason: 'join timeout' });
      expect(await silent.c.closed).toEqual({ code: 4001, reason: 'idle timeout' });
      await sleep(400);
      expect(chatty.c.ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      clearInterval(pinger);
    }
  });

  it('serves static files safely', async () => {
    const base = mkdtempSync(join(tmpdir(), 'aegis-static-'));
    tempDirs.push(base);
    const root = join(base, 'dist');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(root, 'assets', 'main-AbCdEf12.js'), 'console.log(1)');
    writeFileSync(join(root, 'app.mjs'), 'export {}');
    writeFileSync(join(root, 'style.css'), 'body{}');
    writeFileSync(join(root, 'icon.svg'), '<svg/>');
    writeFileSync(join(root, 'a.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
    writeFileSync(join(root, 'm.json'), '{}');
    writeFileSync(join(root, '.env'), 'SECRET=dotfile');
    writeFileSync(join(base, 'secret.txt'), 'TOP-SECRET-OUTSIDE');
    const server = await startServer({ staticDir: root });
    const h = server.httpUrl;

    const index = await get(h, '/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('<title>app</title>');
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['x-content-type-options']).toBe('nosniff');

    const js = await get(h, '/assets/main-AbCdEf12.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    expect((await get(h, '/app.mjs')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get(h, '/style.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get(h, '/icon.svg')).headers['content-type']).toBe('image/svg+xml');
    expect((await get(h, '/a.wasm')).headers['content-type']).toBe('application/wasm');
    expect((await get(h, '/m.json')).headers['content-type']).toBe('application/json; charset=utf-8');
    const head = await get(h, '/style.css', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe('6');

    // SPA fallback for extension-less routes, 404 for missing assets.
    const route = await get(h, '/room/abc?x=1');
    expect(route.status).toBe(200);
    expect(route.body).toContain('<title>app</title>');
    expect((await get(h, '/missing.js')).status).toBe(404);
    expect((await get(h, '/assets')).body).toContain('<title>app</title>');
    expect((await get(h, '/.env')).status).toBe(404);
    expect((await get(h, '/', 'POST')).status).toBe(405);
    expect(await get(h, '/healthz')).toMatchObject({ status: 200, body: '{"ok":true}' });

    for (const attack of [
      '/../secret.txt',
      '/../../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/..\\secret.txt',
      '/%252e%252e/secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/index.html%00.js',
      '/%zz',
      '//secret.txt',
    ]) {
      const res = await get(h, attack);
      expect([400, 404, 200], attack).toContain(res.status);
      expect(res.body, attack).not.toContain('TOP-SECRET');
      expect(res.body, attack).not.toContain('SECRET=dotfile');
      if (res.status === 200) expect(res.body, attack).toContain('<title>app</title>'); // SPA fallback only
    }
    expect((await get(h, '/../secret.txt')).status).toBe(400);
    expect((await get(h, '/%2e%2e/secret.txt')).status).toBe(400);
    await assertRelayWorks(server.url);
  });

  it('without a static dir answers only /healthz, and upgrades only /signal', async () => {
    const server = await startServer();
    expect((await get(server.httpUrl, '/')).status).toBe(404);
    expect((await get(server.httpUrl, '/index.html')).status).toBe(404);
    const health = await get(server.httpUrl, '/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ ok: true });
    expect(health.headers['content-type']).toContain('application/json');
    await expect(TestClient.open(server.url.replace('/signal', '/other'))).rejects.toThrow(/404/);
    await expect(TestClient.open(server.url + 'x')).rejects.toThrow(/404/);
    await assertRelayWorks(server.url + '?v=1');
  });

  it('serves https and wss with a generated certificate, reused on the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aegis-tls-'));
    tempDirs.push(dir);
    const tls = await loadOrCreateCertificate(join(dir, 'tls'), ['127.0.0.1', 'localhost']);
    expect(tls.cert).toContain('BEGIN CERTIFICATE');
    const again = await loadOrCreateCertificate(join(dir, 'tls'), ['127.0.0.1']);
    expect(again.cert).toBe(tls.cert);
    expect(readFileSync(join(dir, 'tls', 'cert.pem'), 'utf8')).toBe(tls.cert);
    // A host the stored certificate does not cover forces a new one.
    const wider = await loadOrCreateCertificate(join(dir, 'tls'), ['10.11.12.13']);
    expect(wider.cert).not.toBe(tls.cert);

    const server = await startServer({ tls: wider });
    expect(server.url.startsWith('wss://127.0.0.1:')).toBe(true);
    expect(server.httpUrl.startsWith('https://127.0.0.1:')).toBe(true);
    expect(await get(server.httpUrl, '/healthz')).toMatchObject({ status: 200, body: '{"ok":true}' });
    const room = roomName();
    const a = await joined(server.url, room, peerId(), { rejectUnauthorized: false });
    const b = await joined(server.url, room, peerId(), { rejectUnauthorized: false });
    a.c.send({ type: 'signal', to: b.id, data: 'over tls' });
    expect(await b.c.nextOfType('signal')).toEqual({ type: 'signal', from: a.id, data: 'over tls' });
  });

  it('close() disconnects clients and frees the port', async () => {
    const server = await startServer();
    const a = await joined(server.url, roomName());
    await server.close();
    expect((await a.c.closed).code).toBe(1001);
    const again = await startServer({ port: server.port });
    expect(again.port).toBe(server.port);
    await assertRelayWorks(again.url);
  });
});

describe('signaling server: browser origins', () => {
  /**
   * The HTTP status of an upgrade to /signal sent with `origin` (101 when the socket opens) and, when
   * given, `host` as the Host header (the request still goes to the server's own address).
   */
  const upgradeStatus = (url: string, origin: string | undefined, host?: string): Promise<number> =>
    new Promise((resolve) => {
      const ws = new WebSocket(url, {
        ...(origin === undefined ? {} : { origin }),
        ...(host === undefined ? {} : { headers: { Host: host } }),
      });
      ws.on('open', () => {
        ws.terminate();
        resolve(101);
      });
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('error', () => {});
    });

  it('refuses a page of another site (403, counted), lets its own pages, allowed origins and non-browser clients in', async () => {
    const server = await startServer({ allowedOrigins: ['HTTPS://App.Example'] });
    const own = new URL(server.url).host; // 127.0.0.1:PORT, as the page's origin would name it
    expect(await upgradeStatus(server.url, 'http://evil.example')).toBe(403);
    expect(await upgradeStatus(server.url, 'null')).toBe(403); // sandboxed frames, file:// pages
    expect(await upgradeStatus(server.url, `http://${own.replace('127.0.0.1', 'localhost')}`)).toBe(403); // another host name is another site
    expect(server.stats().refusedOrigins).toBe(3);
    expect(await upgradeStatus(server.url, `http://${own}`)).toBe(101);
    expect(await upgradeStatus(server.url, 'https://app.example')).toBe(101);
    expect(await upgradeStatus(server.url, undefined)).toBe(101);
    expect(server.stats().refusedOrigins).toBe(3);
    expect(server.stats().refusedHosts).toBe(0);
    // A refused browser changes nothing for the others: a well-behaved pair still joins and relays.
    const room = roomName();
    const a = await joined(server.url, room);
    const b = await joined(server.url, room, peerId(), { origin: `http://${own}` });
    expect(b.peers).toEqual([a.id]);
  });

  it('refuses a DNS-rebinding page (its Origin matches the Host, but the name is not one the server answers for)', async () => {
    const server = await startServer({ allowedHosts: ['Aegis.Test.'], allowedOrigins: ['https://App.Example'] });
    const port = server.port;
    /** An upgrade from a page served under `name`: Origin and Host agree, as after a rebinding. */
    const sameSite = (name: string): Promise<number> => upgradeStatus(server.url, `http://${name}:${port}`, `${name}:${port}`);
    // evil.example's DNS now answers 127.0.0.1: to the browser the page and the socket are same-origin.
    expect(await sameSite('evil.example')).toBe(403);
    expect(await sameSite('Evil.Example.')).toBe(403);
    expect(await sameSite('127.0.0.1.nip.io')).toBe(403); // names that look like addresses are names
    expect(await sameSite('localhost.evil.example')).toBe(403);
    expect(await sameSite('aegis.test.evil.example')).toBe(403); // allowed names are exact
    // An allowed origin's page is refused too when it reaches the server by a name it does not answer for.
    expect(await upgradeStatus(server.url, 'https://app.example', `evil.example:${port}`)).toBe(403);
    expect(server.stats()).toMatchObject({ refusedHosts: 6, refusedOrigins: 0 });

    // Names that cannot be rebound (loopback names, IP literals) and the ones the operator listed.
    expect(await sameSite('localhost')).toBe(101);
    expect(await sameSite('app.localhost')).toBe(101);
    expect(await sameSite('127.0.0.1')).toBe(101);
    expect(await sameSite('[::1]')).toBe(101);
    expect(await sameSite('192.168.1.20')).toBe(101); // a LAN address, as phones open it
    expect(await sameSite('aegis.test')).toBe(101); // allowedHosts, listed as 'Aegis.Test.'
    expect(await sameSite('AEGIS.test.')).toBe(101); // case and the trailing dot do not matter
    expect(await sameSite('app.example')).toBe(101); // the host of an allowed origin
    expect(await upgradeStatus(server.url, 'https://app.example', 'app.example')).toBe(101);
    // No Origin, no browser: the Host header is not checked.
    expect(await upgradeStatus(server.url, undefined, `evil.example:${port}`)).toBe(101);
    expect(server.stats()).toMatchObject({ refusedHosts: 6, refusedOrigins: 0 });

    // The refused pages change nothing for a well-behaved pair.
    await assertRelayWorks(server.url);
    const room = roomName();
    const a = await joined(server.url, room, peerId(), { origin: `http://aegis.test:${port}`, headers: { Host: `aegis.test:${port}` } });
    const b = await joined(server.url, room, peerId(), { origin: `http://localhost:${port}`, headers: { Host: `localhost:${port}` } });
    expect(b.peers).toEqual([a.id]);
  });

  it('reads the hostname out of a Host header and refuses what is no plain host[:port]', () => {
    expect(hostHeaderName('Example.COM.:8080')).toBe('example.com');
    expect(hostHeaderName('localhost')).toBe('localhost');
    expect(hostHeaderName('[::1]:80')).toBe('::1');
    expect(hostHeaderName('[::ffff:127.0.0.1]')).toBe('::ffff:127.0.0.1');
    for (const bad of ['', ':80', 'evil.example@127.0.0.1', '127.0.0.1/x', '::1', '[::1', '[evil.example]:80', 'a:b', 'a:80:80', 'a b', 'a:999999']) {
      expect(hostHeaderName(bad), bad).toBeNull();
    }
  });

  it('throws on an allowedHosts entry that is not a hostname', async () => {
    for (const bad of ['aegis.test:8080', 'http://aegis.test', '', 'a/b']) {
      await expect(createSignalingServer({ port: 0, allowedHosts: [bad] }), bad).rejects.toThrow(RangeError);
    }
  });
});

describe('aegis start: --allow-host, --allow-origin', () => {
  captureCliOutput();

  it('refuses an --allow-host or --allow-origin that is not a host name or an origin (exit 2)', async () => {
    for (const bad of [
      ['--allow-host', 'aegis.test:8080'],
      ['--allow-host', 'http://aegis.test'],
      ['--allow-host', ''],
      ['--allow-origin', 'app.example'],
      ['--allow-origin', 'https://app.example/path'],
      ['--allow-origin', 'ftp://app.example'],
    ]) {
      expect(await main(['start', '--port', '0', ...bad]), bad.join(' ')).toBe(2);
    }
  });
});
