// SignalingClient in Node (ws as the WebSocket) against the real server and against a fake, hostile
// one: membership, relaying, reconnects after a server restart, id-taken retries, dead-link detection,
// and garbage frames.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as WsWebSocket, WebSocketServer } from 'ws';
import type { WebSocket as WsSocket } from 'ws';
import { createSignalingServer } from '../signaling-server/server.ts';
import type { SignalingServer } from '../signaling-server/types.ts';
import { parseServerFrame, SignalingClient } from '../src/platform/signaling-client.ts';
import type { SignalingEvents } from '../src/platform/signaling-client.ts';
import { signalingUrlFor } from '../src/platform/signaling-url.ts';

const WebSocketImpl = WsWebSocket as unknown as typeof WebSocket;

type Event =
  | ['joined', string[]]
  | ['peer-joined', string]
  | ['peer-left', string]
  | ['signal', string, unknown]
  | ['status', string, string | undefined];

class Recorder implements SignalingEvents {
  readonly events: Event[] = [];
  onJoined(peers: string[]): void {
    this.events.push(['joined', peers]);
  }
  onPeerJoined(peerId: string): void {
    this.events.push(['peer-joined', peerId]);
  }
  onPeerLeft(peerId: string): void {
    this.events.push(['peer-left', peerId]);
  }
  onSignal(from: string, data: unknown): void {
    this.events.push(['signal', from, data]);
  }
  onStatus(status: 'connecting' | 'online' | 'offline', detail?: string): void {
    this.events.push(['status', status, detail]);
  }
  /** The peer set a consumer would hold if it applied these events in order. */
  peers(): string[] {
    const set = new Set<string>();
    for (const e of this.events) {
      if (e[0] === 'joined') for (const p of e[1]) set.add(p);
      if (e[0] === 'peer-joined') set.add(e[1]);
      if (e[0] === 'peer-left') set.delete(e[1]);
    }
    return [...set].sort();
  }
  count(kind: Event[0]): number {
    return this.events.filter((e) => e[0] === kind).length;
  }
  async waitFor(pred: (events: Event[]) => boolean, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.events)) {
      if (Date.now() > deadline) throw new Error(`timed out; events: ${JSON.stringify(this.events).slice(-600)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

const servers: SignalingServer[] = [];
const fakes: WebSocketServer[] = [];
const started: SignalingClient[] = [];

afterEach(async () => {
  for (const c of started.splice(0)) c.stop();
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const f of fakes.splice(0)) {
    for (const c of f.clients) c.terminate();
    await new Promise((r) => f.close(r));
  }
});

const peerId = (): string => randomBytes(16).toString('hex');

async function startServer(port = 0): Promise<SignalingServer> {
  const s = await createSignalingServer({ host: '127.0.0.1', port });
  servers.push(s);
  return s;
}

function client(url: string, room: string, id = peerId(), extra: Partial<ConstructorParameters<typeof SignalingClient>[0]> = {}) {
  const events = new Recorder();
  const c = new SignalingClient({
    url,
    room,
    peerId: id,
    events,
    WebSocketImpl,
    reconnectBaseMs: 50,
    reconnectMaxMs: 200,
    ...extra,
  });
  started.push(c);
  c.start();
  return { c, id, events };
}

const isOnline = (events: Event[]): boolean => {
  const last = events.filter((e) => e[0] === 'status').at(-1);
  return last !== undefined && last[1] === 'online';
};

async function fakeServer(onConnection: (ws: WsSocket, join: Record<string, unknown>) => void): Promise<{ url: string; connections: () => number }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  fakes.push(wss);
  let count = 0;
  wss.on('connection', (ws) => {
    count++;
    ws.on('error', () => {});
    ws.once('message', (data) => onConnection(ws, JSON.parse(String(data)) as Record<string, unknown>));
  });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, connections: () => count };
}

describe('signalingUrlFor', () => {
  it('follows the page scheme', () => {
    expect(signalingUrlFor({ protocol: 'https:', host: '192.168.1.5:8080' })).toBe('wss://192.168.1.5:8080/signal');
    expect(signalingUrlFor({ protocol: 'http:', host: 'localhost:8080' })).toBe('ws://localhost:8080/signal');
  });
});

describe('SignalingClient', () => {
  it('validates its options', () => {
    const events = new Recorder();
    expect(() => new SignalingClient({ url: 'ws://x', room: 'bad room', peerId: peerId(), events, WebSocketImpl })).toThrow(/room/);
    expect(() => new SignalingClient({ url: 'ws://x', room: 'r', peerId: 'ABC', events, WebSocketImpl })).toThrow(/peerId/);
    if (!('WebSocket' in globalThis)) {
      expect(() => new SignalingClient({ url: 'ws://x', room: 'r', peerId: peerId(), events })).toThrow(/WebSocketImpl/);
    }
  });

  it('two clients see each other and exchange signals', async () => {
    const server = await startServer();
    const a = client(server.url, 'room1');
    expect(a.c.signal(peerId(), 'too early')).toBe(false);
    await a.events.waitFor((e) => e.some((x) => x[0] === 'joined'));
    const b = client(server.url, 'room1');
    await b.events.waitFor((e) => e.some((x) => x[0] === 'joined'));
    await a.events.waitFor((e) => e.some((x) => x[0] === 'peer-joined'));
    expect(a.events.events.filter((e) => e[0] !== 'status')).toEqual([
      ['joined', []],
      ['peer-joined', b.id],
    ]);
    expect(b.events.events).toEqual([
      ['status', 'connecting', undefined],
      ['status', 'online', undefined],
      ['joined', [a.id]],
    ]);
    expect(a.c.signal(b.id, { sdp: 'offer', candidates: [1, 2] })).toBe(true);
    expect(b.c.signal(a.id, 'answer')).toBe(true);
    await b.events.waitFor((e) => e.some((x) => x[0] === 'signal'));
    await a.events.waitFor((e) => e.some((x) => x[0] === 'signal'));
    expect(b.events.events.at(-1)).toEqual(['signal', a.id, { sdp: 'offer', candidates: [1, 2] }]);
    expect(a.events.events.at(-1)).toEqual(['signal', b.id, 'answer']);

    // stop() leaves: the other side hears it, and the stopped client does not come back.
    b.c.stop();
    await a.events.waitFor((e) => e.some((x) => x[0] === 'peer-left'));
    expect(b.events.events.at(-1)).toEqual(['status', 'offline', 'stopped']);
    expect(b.c.signal(a.id, 'after stop')).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(server.stats()).toMatchObject({ connections: 1, peers: 1 });
    expect(a.events.peers()).toEqual([]);
  });

  it('reconnects and rejoins after a server restart, reconciling the peer set', async () => {
    const first = await startServer();
    const port = first.port;
    const a = client(first.url, 'r');
    const b = client(first.url, 'r');
    const gone = client(first.url, 'r');
    for (const x of [a, b, gone]) await x.events.waitFor(isOnline);
    await a.events.waitFor(() => a.events.peers().length === 2);
    await b.events.waitFor(() => b.events.peers().length === 2);

    await first.close();
    await a.events.waitFor((e) => e.some((x) => x[0] === 'status' && x[1] === 'offline'));
    await b.events.waitFor((e) => e.some((x) => x[0] === 'status' && x[1] === 'offline'));
    gone.c.stop(); // leaves while the server is down: nobody is told, until the rejoin
    expect(a.c.signal(b.id, 'while offline')).toBe(false);

    const second = await startServer(port);
    await a.events.waitFor(isOnline, 5000);
    await b.events.waitFor(isOnline, 5000);
    await a.events.waitFor(() => a.events.peers().join() === [b.id].join(), 3000);
    await b.events.waitFor(() => b.events.peers().join() === [a.id].join(), 3000);
    expect(a.events.count('joined')).toBe(1);
    expect(b.events.count('joined')).toBe(1);
    expect(a.events.events).toContainEqual(['peer-left', gone.id]);
    expect(second.stats()).toMatchObject({ peers: 2 });

    expect(a.c.signal(b.id, 'after restart')).toBe(true);
    await b.events.waitFor((e) => e.some((x) => x[0] === 'signal' && x[2] === 'after restart'));
  });

  it('retries with back-off while its id is taken, and joins once it is free', async () => {
    const server = await startServer();
    const id = peerId();
    const holder = client(server.url, 'r', id);
    await holder.events.waitFor(isOnline);
    const second = client(server.url, 'r', id);
    await second.events.waitFor((e) => e.filter((x) => x[0] === 'status' && x[2] === 'id-taken').length >= 2);
    expect(second.events.count('joined')).toBe(0);
    holder.c.stop();
    await second.events.waitFor((e) => e.some((x) => x[0] === 'joined'), 3000);
    expect(second.events.events.find((x) => x[0] === 'joined')).toEqual(['joined', []]);
  });

  it('treats a server that stops answering as dead and reconnects', async () => {
    const fake = await fakeServer((ws, join) => {
      // Answers the join, then never says anything again (pings go unanswered).
      ws.send(JSON.stringify({ type: 'joined', room: join['room'], peerId: join['peerId'], peers: [] }));
    });
    const a = client(fake.url, 'r', peerId(), { pingIntervalMs: 100 });
    await a.events.waitFor(isOnline);
    const t0 = Date.now();
    await a.events.waitFor((e) => e.some((x) => x[0] === 'status' && x[2] === 'no response from server'), 2000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    await a.events.waitFor(() => fake.connections() >= 2, 2000);
  });

  it('ignores malformed and forged frames from a hostile server without throwing', async () => {
    const friend = peerId();
    const stranger = peerId();
    const fake = await fakeServer((ws, join) => {
      const self = join['peerId'];
      const frames: Array<string | Buffer> = [
        'not json',
        '',
        'null',
        '[]',
        '42',
        '"joined"',
        Buffer.from([1, 2, 3]),
        '{"type":"pong"', // truncated
        JSON.stringify({ type: 'signal', from: friend, data: 'before join' }),
        JSON.stringify({ type: 'peer-joined', peerId: friend }), // before joined: ignored
        JSON.stringify({ type: 'joined', room: 'other', peerId: self, peers: [] }),
        JSON.stringify({ type: 'joined', room: join['room'], peerId: peerId(), peers: [] }),
        JSON.stringify({ type: 'joined', room: join['room'], peerId: self, peers: 'all' }),
        JSON.stringify({ type: 'joined', room: join['room'], peerId: self, peers: ['NOT-HEX'] }),
        JSON.stringify({ type: 'joined', room: join['room'], peerId: self, peers: [{ id: friend }] }),
        JSON.stringify({ type: 'joined', room: join['room'], peerId: self }),
        '{"__proto__":{"type":"joined"}}',
        JSON.stringify({ type: 'joined', room: join['room'], peerId: self, peers: [friend, friend, self] }),
        JSON.stringify({ type: 'joined', room: join['room'], peerId: self, peers: [stranger] }), // second joined: ignored
        JSON.stringify({ type: 'signal', from: 'zz', data: 1 }),
        JSON.stringify({ type: 'signal', from: friend }),
        JSON.stringify({ type: 'signal', from: stranger, data: 'forged: never introduced' }),
        JSON.stringify({ type: 'peer-joined', peerId: 'x'.repeat(32) }),
        JSON.stringify({ type: 'peer-left', peerId: stranger }),
        JSON.stringify({ type: 'peer-joined', peerId: self }),
        JSON.stringify({ type: 'error', code: { nested: true } }),
        JSON.stringify({ type: 'error', code: 'unknown-peer', message: 'while online: harmless' }),
        JSON.stringify({ type: 'mystery' }),
        'x'.repeat(2_000_000),
        JSON.stringify({ type: 'signal', from: friend, data: { sdp: 'ok' } }),
      ];
      for (const f of frames) ws.send(f);
    });
    const a = client(fake.url, 'r');
    await a.events.waitFor((e) => e.some((x) => x[0] === 'signal'));
    await new Promise((r) => setTimeout(r, 100));
    expect(a.events.events).toEqual([
      ['status', 'connecting', undefined],
      ['status', 'online', undefined],
      ['joined', [friend]],
      ['signal', friend, { sdp: 'ok' }],
    ]);
    expect(fake.connections()).toBe(1);
  });

  it('parseServerFrame accepts exactly the documented shapes', () => {
    const id = peerId();
    expect(parseServerFrame(JSON.stringify({ type: 'peer-left', peerId: id }))).toEqual({ type: 'peer-left', peerId: id });
    expect(parseServerFrame(JSON.stringify({ type: 'signal', from: id, data: null }))).toEqual({ type: 'signal', from: id, data: null });
    expect(parseServerFrame(JSON.stringify({ type: 'error', code: 'id-taken', message: 'm' }))).toEqual({ type: 'error', code: 'id-taken' });
    expect(parseServerFrame(new Uint8Array([123, 125]))).toBeNull();
    expect(parseServerFrame(JSON.stringify({ type: 'peer-left', peerId: id.toUpperCase() }))).toBeNull();
  });
});
