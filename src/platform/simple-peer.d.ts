// Minimal typings for the parts of @thaunknown/simple-peer that Aegis uses (the package ships none).
declare module '@thaunknown/simple-peer' {
  export interface SimplePeerOptions {
    initiator?: boolean;
    trickle?: boolean;
    config?: RTCConfiguration;
    channelConfig?: RTCDataChannelInit;
    objectMode?: boolean;
  }
  export type SignalData = Record<string, unknown>;
  export default class SimplePeer {
    constructor(opts?: SimplePeerOptions);
    readonly connected: boolean;
    readonly destroyed: boolean;
    readonly bufferSize: number;
    _pc: RTCPeerConnection | null;
    _channel: RTCDataChannel | null;
    signal(data: SignalData): void;
    send(data: Uint8Array | ArrayBuffer | string): void;
    destroy(err?: Error): void;
    on(event: 'signal', cb: (data: SignalData) => void): this;
    on(event: 'connect', cb: () => void): this;
    on(event: 'data', cb: (data: Uint8Array) => void): this;
    on(event: 'close', cb: () => void): this;
    on(event: 'error', cb: (err: Error & { code?: string }) => void): this;
  }
}
