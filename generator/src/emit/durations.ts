/** Milliseconds as a protobuf JSON Duration: 5000 → "5s", 250 → "0.250s". */
export function protoDuration(ms: number): string {
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${(ms / 1000).toFixed(3)}s`;
}
