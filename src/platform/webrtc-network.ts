// The browser Network: room membership and SDP exchange through the signaling server, links over
// WebRTC data channels (simple-peer). Links chunk messages to ≤16 KiB frames and respect the
// channel's bufferedAmount, so a large message never floods the SCTP send buffer.
import SimplePeer, { type SignalData } from '@thaunknown/simple-peer';
import { chunkMessage, MAX_FRAME_BYTES, Reassembler } from '../core/net/chunker.ts';
import { sdpFingerprint } from '../core/net/sdp-fingerprint.ts';
import type { NodeId } from '../core/crypto/node-id.ts';
import { isNodeId } from '../core/crypto/node-id.ts';
import type { ChannelBinding, LinkHandlers, Network, NetworkHandlers, PeerLink } from '../node/transport.ts';
import { SignalingClient } from './signaling-client.ts';

export interface WebRtcNetworkOptions {
  signalingUrl: string;
  iceServers?: RTCIceServer[];
  /** Largest reassembled message accepted from a peer. */
  maxMessageBytes?: number;
  /** Stop writing to a channel while this many bytes wait in its send buffer. */
  highWaterBytes?: number;
  /** Injected for Node-side peers (node-datachannel) and tests. */
  WebSocketImpl?: typeof WebSocket;
}

/** What one side sends the other through signaling; `cid` names one connection attempt. */
interface SignalEnvelope {
  cid: string;
  payload: SignalData;
}

const MAX_SDP_CHARS = 64 * 1024;

function parseSignal(data: unknown): SignalEnvelope | null {
  if (typeof data !== 'object' || data === null) return null;
  const { cid, payload } = data as Record<string, unknown>;
  if (typeof cid !== 'string' || !/^[0-9a-f]{8,32}$/.test(cid)) return null;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
  const p = payload as Record<string, unknown>;
  if (typeof p['type'] === 'string') {
    if (p['type'] !== 'offer' && p['type'] !== 'answer' && p['type'] !== 'candidate') return null;
    if (p['type'] !== 'candidate' && (typeof p['sdp'] !== 'string' || p['sdp'].length > MAX_SDP_CHARS)) return null;
  }
  return { cid, payload: p };
}

function randomCid(): string {
  const b = new Uint8Array(8);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export class WebRtcNetwork implements Network {
  private signaling: SignalingClient | null = null;
  private handlers: NetworkHandlers | null = null;
  private readonly links = new Map<string, WebRtcLink>();
  private readonly opts: Required<Omit<WebRtcNetworkOptions, 'WebSocketImpl'>> & Pick<WebRtcNetworkOptions, 'WebSocketImpl'>;

  constructor(options: WebRtcNetworkOptions) {
    this.opts = { iceServers: [], maxMessageBytes: 8 * 1024 * 1024 + 4096, highWaterBytes: 1024 * 1024, ...options };
  }

  start(self: NodeId, room: string, handlers: NetworkHandlers): void {
    this.handlers = handlers;
    this.signaling = new SignalingClient({
      url: this.opts.signalingUrl,
      room,
      peerId: self,
      ...(this.opts.WebSocketImpl ? { WebSocketImpl: this.opts.WebSocketImpl } : {}),
      events: {
        onJoined: (peers) => {
          for (const p of peers) if (isNodeId(p)) handlers.onPeerJoined(p);
        },
        onPeerJoined: (p) => {
          if (isNodeId(p)) handlers.onPeerJoined(p);
        },
        onPeerLeft: (p) => {
          if (isNodeId(p)) handlers.onPeerLeft(p);
        },
        onSignal: (from, data) => this.onSignal(from, data),
        onStatus: (status, detail) => handlers.onStatus(status, detail),
      },
    });
    this.signaling.start();
  }

  stop(): void {
    for (const l of [...this.links.values()]) l.close('network stopped');
    this.links.clear();
    this.signaling?.stop();
    this.signaling = null;
  }

  dial(peer: NodeId): PeerLink {
    return this.createLink(peer, randomCid(), true);
  }

  private createLink(peer: NodeId, cid: string, initiator: boolean): WebRtcLink {
    const link = new WebRtcLink(peer, cid, initiator, this.opts, (data) => this.signaling?.signal(peer, data), () => {
      if (this.links.get(cid) === link) this.links.delete(cid);
    });
    this.links.set(cid, link);
    return link;
  }

  private onSignal(from: string, data: unknown): void {
    if (!isNodeId(from)) return;
    const sig = parseSignal(data);
    if (!sig) return;
    let link = this.links.get(sig.cid);
    if (link && link.remoteId !== from) return; // someone else's connection id: ignore
    if (!link) {
      // Only an offer may open a new connection; stray answers/candidates are dropped.
      if (sig.payload['type'] !== 'offer') return;
      link = this.createLink(from, sig.cid, false);
      this.handlers?.onInbound(link);
    }
    link.signal(sig.payload);
  }
}

class WebRtcLink implements PeerLink {
  private readonly peer: SimplePeer;
  private handlers: LinkHandlers | null = null;
  private readonly pending: Array<(h: LinkHandlers) => void> = [];
  private readonly queue: Uint8Array[] = [];
  private readonly reassembler: Reassembler;
  private nextMessageId = 1;
  private closed = false;
  private opened = false;
  /** Messages that arrived before simple-peer emitted 'connect' (it waits on getStats first). */
  private early: Uint8Array[] = [];

  constructor(
    readonly remoteId: NodeId,
    private readonly cid: string,
    readonly initiator: boolean,
    private readonly opts: { iceServers: RTCIceServer[]; maxMessageBytes: number; highWaterBytes: number },
    sendSignal: (data: SignalEnvelope) => void,
    private readonly onGone: () => void,
  ) {
    this.reassembler = new Reassembler(opts.maxMessageBytes);
    this.peer = new SimplePeer({
      initiator,
      trickle: true,
      config: { iceServers: opts.iceServers },
      channelConfig: { ordered: true },
    });
    this.peer.on('signal', (payload) => sendSignal({ cid: this.cid, payload }));
    this.peer.on('connect', () => this.onConnect());
    this.peer.on('data', (chunk) => this.onChunk(chunk));
    this.peer.on('close', () => this.finish('channel closed'));
    this.peer.on('error', (e) => this.finish(`webrtc error: ${e.code ?? e.message}`));
  }

  attach(handlers: LinkHandlers): void {
    this.handlers = handlers;
    for (const deliver of this.pending.splice(0)) deliver(handlers);
  }

  private emit(deliver: (h: LinkHandlers) => void): void {
    if (this.handlers) deliver(this.handlers);
    else this.pending.push(deliver);
  }

  signal(payload: SignalData): void {
    if (this.closed) return;
    try {
      this.peer.signal(payload);
    } catch (e) {
      this.finish(`bad signal: ${String(e)}`);
    }
  }

  private onConnect(): void {
    const pc = this.peer._pc;
    const local = pc?.localDescription ? sdpFingerprint(pc.localDescription.sdp) : null;
    const remote = pc?.remoteDescription ? sdpFingerprint(pc.remoteDescription.sdp) : null;
    if (!local || !remote) return this.finish('no DTLS fingerprint in the SDP');
    const channel = this.peer._channel;
    if (channel) {
      channel.bufferedAmountLowThreshold = Math.floor(this.opts.highWaterBytes / 4);
      channel.addEventListener('bufferedamountlow', () => this.flush());
    }
    const binding: ChannelBinding = { localFingerprint: local, remoteFingerprint: remote };
    this.opened = true;
    this.emit((h) => h.onOpen(binding));
    for (const msg of this.early.splice(0)) this.emit((h) => h.onMessage(msg));
  }

  private onChunk(chunk: Uint8Array): void {
    if (this.closed) return;
    const bytes = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk as ArrayBuffer);
    if (bytes.length > MAX_FRAME_BYTES) return this.finish('bad chunk: frame above 16 KiB');
    const r = this.reassembler.push(bytes);
    if (!r.ok) return this.finish(`bad chunk: ${r.error}`);
    if (r.value === null && this.opened) this.emit((h) => h.onProgress?.());
    if (r.value) {
      const msg = r.value;
      if (!this.opened) {
        if (this.early.length >= 64) return this.finish('peer sent too much before the channel opened');
        this.early.push(msg);
        return;
      }
      this.emit((h) => h.onMessage(msg));
    }
  }

  send(message: Uint8Array): void {
    if (this.closed) throw new Error('link closed');
    this.queue.push(...chunkMessage(this.nextMessageId++ >>> 0, message));
    this.flush();
  }

  private flush(): void {
    const channel = this.peer._channel;
    if (this.closed || !channel || channel.readyState !== 'open') return;
    while (this.queue.length > 0 && channel.bufferedAmount < this.opts.highWaterBytes) {
      const frame = this.queue.shift() as Uint8Array;
      try {
        channel.send(frame as Uint8Array<ArrayBuffer>);
      } catch (e) {
        return this.finish(`send failed: ${String(e)}`);
      }
    }
  }

  /** Bytes waiting in our queue plus the channel's own send buffer. */
  get bufferedBytes(): number {
    let n = this.peer._channel?.bufferedAmount ?? 0;
    for (const f of this.queue) n += f.length;
    return n;
  }

  close(reason: string): void {
    this.finish(reason);
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    try {
      this.peer.destroy();
    } catch {
      // already torn down
    }
    this.onGone();
    this.emit((h) => h.onClose(reason));
  }
}
