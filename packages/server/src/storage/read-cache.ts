/**
 * The per-node cache of the reads every authenticated request makes (token → session, user,
 * membership, org; an org's password and session policies). It must be exact (contract §1): an
 * entry is dropped before any request can see the change of a row it was read from, whoever
 * made it.
 */

/** Tables whose rows cache entries are read from, with the column that names a row. */
export const watchedTables = {
  orgs: "id",
  users: "id",
  memberships: "id",
  sessions: "id",
  session_tokens: "token_hash",
  api_keys: "id",
  password_policies: "org_id",
  session_policies: "org_id",
} as const;

export type WatchedTable = keyof typeof watchedTables;

/** One row of a watched table, as `table:key`. */
export type RowTag = `${WatchedTable}:${string | number}`;

/**
 * Tables where an entry may record that a row is absent (an org without its own policy gets the
 * defaults), so that inserting a row changes what the entry says.
 */
export const tablesReadForAbsence: readonly WatchedTable[] = ["password_policies", "session_policies"];

export interface ReadCache {
  /**
   * The value stored under `key`, or what `load` reads (stored when defined, tagged with the
   * rows `readFrom` names). `load` must read only the rows it names, through the shared
   * connection, outside any transaction.
   */
  read<Value>(
    key: string,
    load: () => Promise<Value | undefined>,
    readFrom: (value: Value) => readonly RowTag[],
  ): Promise<Value | undefined>;
  /** Entries held now (for tests and metrics). */
  readonly size: number;
}

/**
 * For stores where no change can be announced before the next request everywhere (several nodes
 * on PostgreSQL: a notification may still be on its way when a client that saw a revocation on
 * one node calls another): every read goes to the database.
 */
export const uncachedReads: ReadCache = {
  read: (_key, load) => load(),
  size: 0,
};

/**
 * An in-memory cache whose owner reports changed rows (`rowChanged`, synchronously, before the
 * change can commit) and changes it cannot attribute (`clear`). A load that overlaps any
 * change is returned but not stored, since it may have read the row before the change.
 */
export class ExactReadCache implements ReadCache {
  private readonly entries = new Map<string, { value: unknown; tags: readonly string[] }>();
  private readonly keysByTag = new Map<string, Set<string>>();
  /** Counts changes: a load stores its value only if none happened while it ran. */
  private changes = 0;

  /**
   * @param capacity most entries held; the oldest go first.
   * @param syncWithOtherWriters called before every read and after every load: clears the cache
   *   when a writer this node does not hear about (another process on the same file) committed.
   */
  constructor(
    private readonly capacity: number,
    private readonly syncWithOtherWriters: (cache: ExactReadCache) => void = () => {},
  ) {}

  get size(): number {
    return this.entries.size;
  }

  async read<Value>(
    key: string,
    load: () => Promise<Value | undefined>,
    readFrom: (value: Value) => readonly RowTag[],
  ): Promise<Value | undefined> {
    this.syncWithOtherWriters(this);
    const hit = this.entries.get(key);
    if (hit) return hit.value as Value;
    const changesBefore = this.changes;
    const value = await load();
    this.syncWithOtherWriters(this);
    if (value !== undefined && this.changes === changesBefore) this.store(key, value, readFrom(value));
    return value;
  }

  rowChanged(table: WatchedTable, key: string | number): void {
    this.changes++;
    const keys = this.keysByTag.get(`${table}:${key}`);
    if (!keys) return;
    for (const cached of [...keys]) this.drop(cached);
  }

  clear(): void {
    this.changes++;
    this.entries.clear();
    this.keysByTag.clear();
  }

  private store(key: string, value: unknown, tags: readonly string[]): void {
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.drop(oldest.value);
    }
    this.entries.set(key, { value, tags });
    for (const tag of tags) {
      let keys = this.keysByTag.get(tag);
      if (!keys) {
        keys = new Set();
        this.keysByTag.set(tag, keys);
      }
      keys.add(key);
    }
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    for (const tag of entry.tags) {
      const keys = this.keysByTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.keysByTag.delete(tag);
    }
  }
}
