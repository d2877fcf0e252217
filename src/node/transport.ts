// The adapter interfaces a node runs over: WebRTC + WebSocket signaling in the browser
// (platform/), an in-memory network in the simulator (sim/). Everything above them is shared.
import type { NodeId } from '../core/crypto/node-id.ts';

/** The two DTLS fingerprints of a channel, as each side read them from the SDPs it used. */
export interface ChannelBinding {
  localFingerprint: string;
  remoteFingerprint: string;
}

export interface LinkHandlers {
  onOpen(binding: ChannelBinding): void;
  /** One whole message (the link reassembles chunks). Never before `onOpen`. */
  onMessage(message: Uint8Array): void;
  /** Part of a message arrived (the link reassembles chunks): the peer is alive while a large one crosses. */
  onProgress?(): void;
  onClose(reason: string): void;
}

/** One data channel to one peer. Not yet authenticated: the node runs the handshake over it. */
export interface PeerLink {
  readonly remoteId: NodeId;
  readonly initiator: boolean;
  /** Must be called synchronously after `dial` returns or inside `onInbound`; events before it are queued. */
  attach(handlers: LinkHandlers): void;
  send(message: Uint8Array): void;
  close(reason: string): void;
}

export interface NetworkHandlers {
  onPeerJoined(id: NodeId): void;
  onPeerLeft(id: NodeId): void;
  onInbound(link: PeerLink): void;
  onStatus(status: NetworkStatus, detail?: string): void;
}

export type NetworkStatus = 'connecting' | 'online' | 'offline';

/** Room membership (signaling) plus a way to open links to members. */
export interface Network {
  start(self: NodeId, room: string, handlers: NetworkHandlers): void;
  stop(): void;
  dial(peer: NodeId): PeerLink;
}
