// The largest file `aegis verify` reads. The whole file is parsed in memory (JSON.parse, then every
// leaf decoded), which takes several times the file size: a 10,000-entry export is a few MB, so
// 512 MiB is far beyond any real log and still safe to hold on an ordinary machine.
export const MAX_VERIFY_FILE_BYTES = 512 * 1024 * 1024;

/** Why a file of this size is refused, or null when it may be read. */
export function verifyFileSizeError(file: string, bytes: number, limit = MAX_VERIFY_FILE_BYTES): string | null {
  if (bytes <= limit) return null;
  const mib = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  return `verify: "${file}" is ${mib(bytes)}, more than the ${mib(limit)} aegis verify reads (an export of a real log is a few MB)`;
}
