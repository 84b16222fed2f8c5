// Every generated YAML file is written the same way: a header that says where it came from,
// keys in the order the emitters built them, no anchors, no folded lines. Same input, same bytes.
import { stringify } from 'yaml';

export function toYaml(value: unknown, header: string): string {
  const body = stringify(value, { lineWidth: 0, aliasDuplicateObjects: false, indent: 2, indentSeq: true });
  return `${header
    .split('\n')
    .map((l) => `# ${l}`.trimEnd())
    .join('\n')}\n${body}`;
}

/** Several objects as one multi-document YAML file (Kubernetes style), same rules as toYaml. */
export function toYamlDocuments(values: unknown[], header: string): string {
  return (
    toYaml(values[0], header) +
    values
      .slice(1)
      .map((v) => `---\n${stringify(v, { lineWidth: 0, aliasDuplicateObjects: false, indent: 2, indentSeq: true })}`)
      .join('')
  );
}
