/** A gateway.yaml edit that cannot be made (no such route, no routes list, …). */
export class EditError extends Error {}
