// The signaling endpoint is served by the same server as the app (signaling-server/server.ts), so
// its URL follows from the page's: wss:// when the page came over https, ws:// otherwise.
export function signalingUrlFor(location: { protocol: string; host: string }): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/signal`;
}
