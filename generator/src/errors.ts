// The one error type of the generator: every user-facing problem is a Diagnostic that names the
// file and, where it comes from gateway.yaml, the line and column of the offending field.
export interface Diagnostic {
  file: string;
  line?: number;
  column?: number;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const at = d.line === undefined ? d.file : `${d.file}:${d.line}:${d.column ?? 1}`;
  return `${at}: ${d.message}`;
}

export class GatewayError extends Error {
  readonly diagnostics: Diagnostic[];

  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'GatewayError';
    this.diagnostics = diagnostics;
  }
}
