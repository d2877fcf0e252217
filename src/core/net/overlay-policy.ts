// Which peers to dial and which links to prune. Full mesh while the room is small; above
// `fullMeshMax` each node keeps a bounded degree between `degreeLow` and `degreeHigh`,
// aiming for `degree` (gossipsub's D / D_low / D_high).
import { shuffled, type Random } from '../clock.ts';
import type { NodeId } from '../crypto/node-id.ts';

export interface OverlayConfig {
  /** Rooms up to this many nodes (self included) form a full mesh. */
  fullMeshMax: number;
  degree: number;
  degreeLow: number;
  degreeHigh: number;
}

export const DEFAULT_OVERLAY: OverlayConfig = { fullMeshMax: 12, degree: 8, degreeLow: 6, degreeHigh: 12 };

export interface OverlayView {
  self: NodeId;
  /** Room members other than self. */
  members: ReadonlySet<NodeId>;
  /** Peers with a link open or being opened (authenticated or not). */
  linked: ReadonlySet<NodeId>;
  /** Peers we may not dial right now (back-off after a failure). */
  backingOff: ReadonlySet<NodeId>;
  /** Peers whose link failed and whose back-off has expired: to be redialled (reconnection with back-off). */
  reconnect?: ReadonlySet<NodeId>;
}

export interface OverlayDecision {
  dial: NodeId[];
  prune: NodeId[];
  mode: 'full-mesh' | 'partial-mesh';
  target: number;
}

export function isFullMesh(config: OverlayConfig, memberCount: number): boolean {
  return memberCount + 1 <= config.fullMeshMax;
}

/** In full mesh only the lower id dials, so two peers never race to open two links. */
export function shouldDial(self: NodeId, peer: NodeId): boolean {
  return self < peer;
}

export function decideOverlay(view: OverlayView, config: OverlayConfig, rng: Random): OverlayDecision {
  if (isFullMesh(config, view.members.size)) {
    const dial = [...view.members].filter(
      (p) => !view.linked.has(p) && !view.backingOff.has(p) && shouldDial(view.self, p),
    );
    dial.sort();
    return { dial, prune: [], mode: 'full-mesh', target: view.members.size };
  }
  const linked = [...view.linked].filter((p) => view.members.has(p));
  const dial: NodeId[] = [];
  const prune: NodeId[] = [];
  if (linked.length < config.degreeLow) {
    const candidates = [...view.members].filter((p) => !view.linked.has(p) && !view.backingOff.has(p)).sort();
    dial.push(...shuffled(rng, candidates).slice(0, config.degree - linked.length));
  } else if (linked.length > config.degreeHigh) {
    prune.push(...shuffled(rng, linked.sort()).slice(0, linked.length - config.degree));
  }
  // Redial failed peers even at target degree (up to degreeHigh): otherwise the two sides of a
  // healed partition each keep their own degree and never link up again.
  if (prune.length === 0 && view.reconnect) {
    for (const p of [...view.reconnect].sort()) {
      if (linked.length + dial.length >= config.degreeHigh) break;
      if (view.members.has(p) && !view.linked.has(p) && !view.backingOff.has(p) && !dial.includes(p)) dial.push(p);
    }
  }
  return { dial, prune, mode: 'partial-mesh', target: Math.min(config.degree, view.members.size) };
}
