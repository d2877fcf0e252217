// Page side of `npm run bench` (served as dist/bench.html): two tabs open this page, connect once
// through Aegis's transport (WebRtcNetwork: chunking + back-pressure) and once through a bare
// RTCDataChannel, and the Node driver (bench/network.ts) calls `window.aegisBench` to push bytes.
// No AegisNode here: this measures the transport alone, without handshake, signing or gossip.
import type { NodeId } from '../../src/core/crypto/node-id.ts';
import type { PeerLink } from '../../src/node/transport.ts';
import { signalingUrlFor } from '../../src/platform/signaling-url.ts';
import { WebRtcNetwork } from '../../src/platform/webrtc-network.ts';

export type ChannelKind = 'aegis' | 'raw';

export interface SendOptions {
  count: number;
  size: number;
  timeLimitMs: number;
  /** Pause the raw sender while the channel buffers more than this (Aegis's own default: 1 MiB). */
  highWaterBytes: number;
}

export interface SendResult {
  sent: number;
  /** `performance.timeOrigin + performance.now()`: comparable across tabs of one machine. */
  startAtMs: number;
  endAtMs: number;
  timedOut: boolean;
}

export interface ReceiveResult {
  count: number;
  bytes: number;
  firstAtMs: number | null;
  lastAtMs: number | null;
  complete: boolean;
}

export interface AegisBench {
  id(): string;
  /** Join `room` on the signaling server; resolves once online. */
  startAegis(room: string, timeoutMs: number): Promise<void>;
  /** Dial `peer` (who must have joined) and resolve when its data channel is open. */
  dialAegis(peer: string, timeoutMs: number): Promise<void>;
  /** Resolve when an inbound Aegis link is open. */
  acceptAegis(timeoutMs: number): Promise<void>;
  /** Create the raw peer connection and data channel; return the offer after ICE gathering completes. */
  rawOffer(timeoutMs: number): Promise<string>;
  rawAnswer(offerSdp: string, timeoutMs: number): Promise<string>;
  rawComplete(answerSdp: string): Promise<void>;
  waitRawOpen(timeoutMs: number): Promise<void>;
  /** Reset the receive counters of `kind`. */
  arm(kind: ChannelKind): void;
  /** Resolve once `expected` messages of `kind` arrived since `arm`, or after `timeoutMs`. */
  collect(kind: ChannelKind, expected: number, timeoutMs: number): Promise<ReceiveResult>;
  send(kind: ChannelKind, opts: SendOptions): Promise<SendResult>;
  close(): void;
}

declare global {
  interface Window {
    aegisBench?: AegisBench;
  }
}

/** A link of Aegis's WebRtcNetwork; `bufferedBytes` (queue + channel buffer) is on the class, not the interface. */
type BenchLink = PeerLink & { readonly bufferedBytes?: number };

interface Sink {
  count: number;
  bytes: number;
  firstAtMs: number | null;
  lastAtMs: number | null;
  waiter: { expected: number; resolve: () => void } | null;
}

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function randomNodeId(): NodeId {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('') as NodeId;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function newSink(): Sink {
  return { count: 0, bytes: 0, firstAtMs: null, lastAtMs: null, waiter: null };
}

function record(sink: Sink, bytes: number): void {
  const t = now();
  sink.firstAtMs ??= t;
  sink.lastAtMs = t;
  sink.count++;
  sink.bytes += bytes;
  if (sink.waiter && sink.count >= sink.waiter.expected) {
    const w = sink.waiter;
    sink.waiter = null;
    w.resolve();
  }
}

function gatheringComplete(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const check = (): void => {
      if (pc.iceGatheringState !== 'complete') return;
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    pc.addEventListener('icegatheringstatechange', check);
  });
}

function channelOpen(ch: RTCDataChannel): Promise<void> {
  if (ch.readyState === 'open') return Promise.resolve();
  return new Promise((resolve, reject) => {
    ch.addEventListener('open', () => resolve(), { once: true });
    ch.addEventListener('close', () => reject(new Error('raw channel closed before opening')), { once: true });
  });
}

function createBench(): AegisBench {
  const selfId = randomNodeId();
  const sinks: Record<ChannelKind, Sink> = { aegis: newSink(), raw: newSink() };
  let network: WebRtcNetwork | null = null;
  let link: BenchLink | null = null;
  let linkOpen: Promise<void> | null = null;
  let inbound: (() => void) | null = null;
  const known = new Set<string>();
  let pc: RTCPeerConnection | null = null;
  let raw: RTCDataChannel | null = null;

  function adopt(l: PeerLink): Promise<void> {
    link = l;
    return new Promise((resolve, reject) => {
      l.attach({
        onOpen: () => resolve(),
        onMessage: (m) => record(sinks.aegis, m.length),
        onClose: (reason) => reject(new Error(`aegis link closed: ${reason}`)),
      });
    });
  }

  function setupRaw(ch: RTCDataChannel): void {
    raw = ch;
    ch.binaryType = 'arraybuffer';
    ch.onmessage = (e: MessageEvent) => {
      const d = e.data as ArrayBuffer | string;
      record(sinks.raw, typeof d === 'string' ? d.length : d.byteLength);
    };
  }

  function newPeerConnection(): RTCPeerConnection {
    pc?.close();
    pc = new RTCPeerConnection({ iceServers: [] });
    return pc;
  }

  async function sendAegis(opts: SendOptions, msg: Uint8Array, deadline: number): Promise<number> {
    const l = link;
    if (!l) throw new Error('no aegis link');
    if (l.bufferedBytes === undefined) throw new Error('aegis link exposes no bufferedBytes');
    // The link queues without limit and drains itself on `bufferedamountlow`; the sender only has to
    // keep the queue from growing without bound. Summing the queue walks it, so check once per ~1 MiB.
    const checkEvery = Math.max(1, Math.floor((1024 * 1024) / opts.size));
    const queueLimit = 2 * opts.highWaterBytes;
    let sent = 0;
    while (sent < opts.count) {
      if (sent % checkEvery === 0) {
        if (now() > deadline) break;
        while ((l.bufferedBytes ?? 0) > queueLimit && now() <= deadline) await sleep(1);
        if (now() > deadline) break;
      }
      l.send(msg);
      sent++;
    }
    return sent;
  }

  async function sendRaw(opts: SendOptions, msg: Uint8Array<ArrayBuffer>, deadline: number): Promise<number> {
    const ch = raw;
    if (!ch || ch.readyState !== 'open') throw new Error('raw channel not open');
    ch.bufferedAmountLowThreshold = Math.floor(opts.highWaterBytes / 4);
    let sent = 0;
    while (sent < opts.count) {
      if (ch.bufferedAmount > opts.highWaterBytes) {
        if (now() > deadline) break;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.max(0, deadline - now()) + 1);
          ch.addEventListener(
            'bufferedamountlow',
            () => {
              clearTimeout(t);
              resolve();
            },
            { once: true },
          );
        });
        if (ch.readyState !== 'open') break;
        continue;
      }
      ch.send(msg);
      sent++;
      if ((sent & 1023) === 0 && now() > deadline) break;
    }
    return sent;
  }

  return {
    id: () => selfId,

    async startAegis(room, timeoutMs) {
      if (network) throw new Error('aegis network already started');
      const net = new WebRtcNetwork({ signalingUrl: signalingUrlFor(location), iceServers: [] });
      network = net;
      let online: () => void = () => {};
      const isOnline = new Promise<void>((r) => (online = r));
      net.start(selfId, room, {
        onPeerJoined: (p) => known.add(p),
        onPeerLeft: (p) => known.delete(p),
        onInbound: (l) => {
          linkOpen = adopt(l);
          inbound?.();
        },
        onStatus: (status) => {
          if (status === 'online') online();
        },
      });
      await withTimeout(isOnline, timeoutMs, 'signaling join');
    },

    async dialAegis(peer, timeoutMs) {
      if (!network) throw new Error('aegis network not started');
      const deadline = now() + timeoutMs;
      while (!known.has(peer)) {
        if (now() > deadline) throw new Error(`peer ${peer} never joined the room`);
        await sleep(10);
      }
      linkOpen = adopt(network.dial(peer as NodeId));
      await withTimeout(linkOpen, Math.max(1, deadline - now()), 'aegis dial');
    },

    async acceptAegis(timeoutMs) {
      const deadline = now() + timeoutMs;
      if (!linkOpen) await withTimeout(new Promise<void>((r) => (inbound = r)), timeoutMs, 'aegis inbound link');
      if (!linkOpen) throw new Error('no inbound aegis link');
      await withTimeout(linkOpen, Math.max(1, deadline - now()), 'aegis inbound open');
    },

    async rawOffer(timeoutMs) {
      const p = newPeerConnection();
      setupRaw(p.createDataChannel('bench-raw', { ordered: true }));
      await p.setLocalDescription(await p.createOffer());
      await withTimeout(gatheringComplete(p), timeoutMs, 'ICE gathering (offer)');
      const sdp = p.localDescription?.sdp;
      if (!sdp) throw new Error('no local offer');
      return sdp;
    },

    async rawAnswer(offerSdp, timeoutMs) {
      const p = newPeerConnection();
      p.ondatachannel = (e) => setupRaw(e.channel);
      await p.setRemoteDescription({ type: 'offer', sdp: offerSdp });
      await p.setLocalDescription(await p.createAnswer());
      await withTimeout(gatheringComplete(p), timeoutMs, 'ICE gathering (answer)');
      const sdp = p.localDescription?.sdp;
      if (!sdp) throw new Error('no local answer');
      return sdp;
    },

    async rawComplete(answerSdp) {
      if (!pc) throw new Error('no raw peer connection');
      await pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
    },

    async waitRawOpen(timeoutMs) {
      const deadline = now() + timeoutMs;
      while (!raw) {
        if (now() > deadline) throw new Error('raw data channel never arrived');
        await sleep(5);
      }
      await withTimeout(channelOpen(raw), Math.max(1, deadline - now()), 'raw channel open');
    },

    arm(kind) {
      sinks[kind] = newSink();
    },

    async collect(kind, expected, timeoutMs) {
      const sink = sinks[kind];
      if (sink.count < expected) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            sink.waiter = null;
            resolve();
          }, timeoutMs);
          sink.waiter = {
            expected,
            resolve: () => {
              clearTimeout(t);
              resolve();
            },
          };
        });
      }
      return { count: sink.count, bytes: sink.bytes, firstAtMs: sink.firstAtMs, lastAtMs: sink.lastAtMs, complete: sink.count >= expected };
    },

    async send(kind, opts) {
      const msg = new Uint8Array(opts.size);
      for (let i = 0; i < msg.length; i++) msg[i] = (i * 31 + 7) & 0xff;
      const startAtMs = now();
      const deadline = startAtMs + opts.timeLimitMs;
      const sent = kind === 'aegis' ? await sendAegis(opts, msg, deadline) : await sendRaw(opts, msg, deadline);
      const endAtMs = now();
      return { sent, startAtMs, endAtMs, timedOut: sent < opts.count };
    },

    close() {
      network?.stop();
      network = null;
      link = null;
      raw?.close();
      pc?.close();
      pc = null;
      raw = null;
    },
  };
}

window.aegisBench = createBench();
import './ledger-bench.ts';
import './prg-bench.ts';
