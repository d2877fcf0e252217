// The DTLS certificate fingerprint from an SDP ("a=fingerprint:sha-256 AB:CD:..."), used as the
// channel binding in the peer handshake. Normalised so both ends compute identical bytes.
export function sdpFingerprint(sdp: string): string | null {
  const m = /^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/m.exec(sdp);
  if (!m || m[1] === undefined || m[2] === undefined) return null;
  return `${m[1].toLowerCase()} ${m[2].toUpperCase()}`;
}
