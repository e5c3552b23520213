/** The spec's error kinds. Each error carries a sentence a person can act on and, where there is one, the cause. */
export type StateErrorKind =
  | 'SaveError'
  | 'LoadError'
  | 'SnapshotCreationError'
  | 'SnapshotLoadError'
  | 'SnapshotNotFound'
  | 'InvalidState'
  | 'IoError';

export class StateError extends Error {
  readonly kind: StateErrorKind;
  override readonly cause: unknown;

  constructor(kind: StateErrorKind, message: string, cause?: unknown) {
    super(shortenPaths(message));
    this.name = 'StateError';
    this.kind = kind;
    this.cause = cause;
  }

  static saveError(message: string, cause?: unknown): StateError {
    return new StateError('SaveError', message, cause);
  }
  static loadError(message: string, cause?: unknown): StateError {
    return new StateError('LoadError', message, cause);
  }
  static snapshotCreation(message: string, cause?: unknown): StateError {
    return new StateError('SnapshotCreationError', message, cause);
  }
  static snapshotLoad(message: string, cause?: unknown): StateError {
    return new StateError('SnapshotLoadError', message, cause);
  }
  static snapshotNotFound(id: string): StateError {
    return new StateError('SnapshotNotFound', `No recovery point "${id}" exists. List the points to see which ones are kept.`);
  }
  static invalidState(message: string, cause?: unknown): StateError {
    return new StateError('InvalidState', message, cause);
  }
  static io(message: string, cause?: unknown): StateError {
    return new StateError('IoError', message, cause);
  }
}

export function isStateError(value: unknown): value is StateError {
  return value instanceof StateError;
}

/** The errno code of a Node error, if it has one. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

/** A short description of an underlying cause, for messages and logs. */
export function describeCause(error: unknown): string {
  if (error instanceof Error) {
    const code = errorCode(error);
    return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

/** Turns any failure of a file-system call into an IoError that says what we were doing and what to do. */
export function ioError(doing: string, error: unknown): StateError {
  if (error instanceof StateError) return error;
  const code = errorCode(error);
  const hint =
    code === 'ENOSPC' ? ' The disk is full: free some space and try again.'
    : code === 'EACCES' || code === 'EPERM' ? ' Permission was denied: check the owner and permissions of the folder.'
    : code === 'EROFS' ? ' The file system is read-only.'
    : code === 'EMFILE' ? ' Too many files are open: try again.'
    : '';
  return StateError.io(`Could not ${doing} (${describeCause(error)}).${hint}`, error);
}

/** Whether a failed call says that a file or folder may not be written (permissions, a read-only file system). */
export function isNotWritable(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'EACCES' || code === 'EPERM' || code === 'EROFS';
}

/** A store that cannot be written: said before anything is written. */
export class StoreNotWritableError extends StateError {
  constructor(message: string, cause?: unknown) {
    super('IoError', message, cause);
  }
}

/** Another process held the store's lock for longer than this one would wait for it (`StoreLock`'s `waitMs`). */
export class StoreBusyError extends StateError {
  constructor(message: string) {
    super('IoError', message);
  }
}

/** What `storeNotWritable`'s message ends with: what a writable store is needed for. */
export const WRITABLE_FOR = 'Make it writable to create, restore or delete points.';

export function storeNotWritable(where: string, cause: unknown): StoreNotWritableError {
  const why = errorCode(cause) === 'EROFS' ? 'the file system is read-only' : 'its permissions do not allow writing';
  return new StoreNotWritableError(`The recovery point store ${where} cannot be written (${why}); nothing was changed. ${WRITABLE_FOR}`, cause);
}

/**
 * Why a path that failed with `error` cannot be read (captured, or checked before a restore), for a message; `null` when it is simply not
 * there any more (gone, or replaced while it was read), `undefined` for a failure that stops the operation.
 */
export function unreadableReason(error: unknown): string | null | undefined {
  const code = errorCode(error);
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'EISDIR' || code === 'EINVAL') return null;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EBUSY' || code === 'ETXTBSY') return 'it is locked';
  if (code === 'ENAMETOOLONG') return 'its path is longer than the system allows';
  return undefined;
}

/** Characters of a path (or any unbroken run of text) a message shows at most. */
const MESSAGE_PATH_CHARS = 200;

/** A path as a message shows it: one longer than 200 characters keeps its start and its end, with `…` between. */
export function shortPath(p: string, max = MESSAGE_PATH_CHARS): string {
  if (p.length <= max) return p;
  const head = Math.ceil((max - 1) / 2);
  return `${p.slice(0, head)}\u2026${p.slice(p.length - (max - 1 - head))}`;
}

/** A message with every unbroken run of more than 200 characters (a path, the system's own message about it) shortened. */
export function shortenPaths(message: string): string {
  return message.length <= MESSAGE_PATH_CHARS ? message : message.replace(/\S{201,}/g, (run) => shortPath(run));
}

/**
 * A file name read as bytes, for a message: valid UTF-8 as text, every other byte (and control
 * characters, and the backslash) escaped as `\xNN`.
 */
export function escapeName(name: Buffer): string {
  let out = '';
  for (let i = 0; i < name.length; ) {
    const lead = name[i]!;
    const length = lead < 0x80 ? 1 : lead >> 5 === 0b110 ? 2 : lead >> 4 === 0b1110 ? 3 : lead >> 3 === 0b11110 ? 4 : 0;
    const sequence = length > 0 && i + length <= name.length ? name.subarray(i, i + length) : undefined;
    const text = sequence?.toString('utf8');
    if (sequence && text !== undefined && Buffer.from(text, 'utf8').equals(sequence) && !(length === 1 && (lead < 0x20 || lead === 0x7f || lead === 0x5c))) {
      out += text;
      i += length;
    } else {
      out += `\\x${lead.toString(16).padStart(2, '0')}`;
      i++;
    }
  }
  return out;
}
