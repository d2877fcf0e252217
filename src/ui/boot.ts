// Starts the tab's node and connects it to the dashboard store; exposes a developer/test hook.
import type { AegisNode } from '../node/aegis-node.ts';
import { isValidRoom, roomFromUrl, startBrowserNode } from '../platform/browser-node.ts';
import { bindNode, createDashboardStore, type DashboardStore } from './dashboard-store.ts';
import { MessageType } from '../core/net/message-types.ts';

export interface DashboardActions {
  broadcastTest(text: string): void;
  changeRoom(room: string): string | null;
}

/** Developer and end-to-end test hook: `window.__aegis`. */
export interface AegisDebugHook {
  node: AegisNode;
  snapshot(): ReturnType<AegisNode['snapshot']>;
  /** Seal a valid test broadcast, flip one bit at `bitIndex`, send it raw to `peerId`. */
  sendTampered(peerId: string, bitIndex: number): Promise<boolean>;
}

declare global {
  interface Window {
    __aegis?: AegisDebugHook;
  }
}

export function bootDashboard(): { store: DashboardStore; actions: DashboardActions } {
  const store = createDashboardStore();
  let node: AegisNode | null = null;
  const room = roomFromUrl(new URL(location.href));
  startBrowserNode(room).then(
    (started) => {
      node = started.node;
      const n = started.node;
      bindNode(store, n, { ...started.identity, cryptoBackend: started.cryptoBackend, secureContext: started.secureContext });
      window.__aegis = {
        node: n,
        snapshot: () => n.snapshot(),
        async sendTampered(peerId, bitIndex) {
          const env = await n.seal(MessageType.TestBroadcast, new Uint8Array(40));
          const bytes = env.bytes.slice();
          const i = Math.floor(bitIndex / 8) % bytes.length;
          bytes[i] = (bytes[i] as number) ^ (1 << bitIndex % 8);
          return n.sendRawGossip(peerId, bytes);
        },
      };
    },
    (e: unknown) => store.setState({ phase: 'failed', error: e instanceof Error ? e.message : String(e) }),
  );
  return {
    store,
    actions: {
      broadcastTest: (text) => void node?.broadcastTest(text),
      changeRoom: (next) => {
        if (!isValidRoom(next)) return 'A room name is 1–64 letters, digits, ".", "_" or "-".';
        const url = new URL(location.href);
        url.searchParams.set('room', next);
        location.assign(url.toString());
        return null;
      },
    },
  };
}
