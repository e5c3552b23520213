/**
 * The files an `apply_patch` patch names (Copilot's and Cline's tool): those it adds, updates and
 * deletes, and where an update moves a file (`*** Move to:`), whose new file the point must hold.
 */
export function patchFiles(patch: string): string[] {
  return [...new Set([...patch.matchAll(/^\*\*\* (?:(?:Add|Update|Delete) File|Move to): (.+)$/gm)].map((m) => m[1]!.trim()))];
}

