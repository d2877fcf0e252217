// `aegis verify FILE | head`: once the reader closes the pipe, every further write to stdout fails
// with EPIPE, and Node turns an unhandled stream 'error' into a crash with a stack trace. The CLI
// stops writing quietly instead and still ends with its own exit code.
import type { Writable } from 'node:stream';

const guarded = new WeakSet<Writable>();

/** Ignore EPIPE (and the writes that follow on the closed stream); any other error still throws. */
export function quietOnClosedPipe(stream: Writable): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  let closed = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') closed = true;
    else if (!(closed && e.code === 'ERR_STREAM_DESTROYED')) throw e;
  });
}
