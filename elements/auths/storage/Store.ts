import type { AppStore } from "jit-runtime/element";

/**
 * The storage port. Every method returns a Promise so a server database can replace
 * SQLite without changing callers. Times are epoch milliseconds passed in by the caller
 * (from its Clock), never read from the wall clock inside the store.
 *
 * Secrets never reach the store in clear: single-use codes and session tokens arrive as
 * their SHA-256 hex hash (runtime/security/tokens.ts), session keys arrive sealed by the
 * vault.
 */

export interface UserRecord {
  userId: number;
  name: string | null;
  createdAt: number;
  /**
   * The user's phone number ("+<country code><number>", from WeChat's phone button), when
   * one is stored. Unique: two users never hold one number. Absent when none is stored.
   */
  phone?: string;
}

export interface CorpRecord {
  corpId: string;
  corpName: string;
}

/** A WeChat mini-program identity bound to a user. Unique per (appId, openId) and per (appId, userId). */
export interface BindingRecord {
  appId: string;
  openId: string;
  unionId: string | null;
  userId: number;
  createdAt: number;
}

export interface BindCodeRecord {
  appId: string;
  openId: string;
  unionId: string | null;
  expiresAt: number;
}

/**
 * Who issued a login code, and so opened the session it became: the login Type (element
 * fullName) and the identity (appId, openId) it logged in. deleteBinding of that identity
 * voids the codes and ends the sessions.
 */
export interface LoginOrigin {
  loginType: string;
  /** The identity's realm: a mini program's AppID, or a password realm (`password:<appId>`). */
  appId: string;
  /** The identity's subject in that realm: a WeChat openId, or a normalised username. */
  openId: string;
}

/**
 * A username and password login of a user, unique per (realm, username) and per
 * (realm, user). `realm` is `password:<appId>`: usernames are unique per app. The hash is a
 * PHC string that carries its own parameters; it never leaves the server.
 */
export interface PasswordCredentialRecord {
  realm: string;
  username: string;
  userId: number;
  passwordHash: string;
  createdAt: number;
  updatedAt: number;
}

export interface PasswordRegistration {
  realm: string;
  username: string;
  passwordHash: string;
  name?: string | null;
  corp?: CorpRecord | null;
  /** The new user's first login code (origin: loginType, realm, username), saved in the same transaction. */
  loginCode: { hash: string; expiresAt: number; loginType: string };
}

export interface LoginCodeRecord {
  appId: string;
  userId: number;
  expiresAt: number;
  /** Absent or null: issued by no identity (then no unbind reaches it). Its appId is the code's. */
  origin?: LoginOrigin | null;
}

export interface SessionRecord {
  userId: number;
  corpId: string | null;
  createdAt: number;
  expiresAt: number;
  /** The origin of the login code that opened it; null when none. */
  origin?: LoginOrigin | null;
}

export type CodeKind = "bind" | "login";

/** A user as the admin console lists it: the record, its bindings, organisations and live sessions. */
export interface AdminUserView {
  user: UserRecord;
  bindings: BindingRecord[];
  corps: CorpRecord[];
  /** Sessions not yet expired. */
  liveSessions: number;
}

/**
 * A live session as the admin console shows it. `sessionId` is the first 16 hex characters
 * of the token's hash: enough to name it among one user's sessions, useless as a token.
 */
export interface AdminSessionView {
  sessionId: string;
  userId: number;
  corpId: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface AdminUserQuery {
  /** A userId (digits) or an openId/unionId, matched exactly; empty or absent = every user. */
  search?: string;
  /** 1..100. */
  limit: number;
  offset?: number;
}

/**
 * Outcome of consuming a single-use code. `expired` codes are consumed as well (an expired
 * code presented once is spent), so a later attempt sees `invalid`.
 */
export type ConsumeResult<T> = { status: "ok"; record: T } | { status: "expired"; record: T } | { status: "invalid" };

export type RedeemResult =
  | { status: "ok"; user: UserRecord; binding: BindingRecord }
  | { status: "expired" }
  | { status: "invalid" };

/**
 * Outcome of redeemLoginCode. `not_member`: the user is not in the organisation asked for;
 * the code stays unused.
 */
export type LoginRedeemResult =
  | { status: "ok"; session: SessionRecord }
  | { status: "expired" }
  | { status: "invalid" }
  | { status: "not_member" };

export interface RedeemOptions {
  appId: string;
  corp?: CorpRecord | null;
  name?: string | null;
  /**
   * A login code for the new user, saved in the same transaction (origin: `loginType` and
   * the identity just bound), so the registering client logs in without a second wx.login.
   */
  loginCode?: { hash: string; expiresAt: number; loginType: string } | null;
  /**
   * The new user's phone number, stored in the same transaction. A number already on another
   * user throws LoginError PHONE_TAKEN and nothing is written (the bind code stays unused).
   */
  phone?: string | null;
}

/**
 * The shared WeChat access token of one AppID, sealed by the vault, with the lease that lets
 * one caller in any process fetch it while the others wait (see claimAccessTokenFetch).
 */
export interface AccessTokenRecord {
  /** Sealed token, or null before the first fetch. */
  sealed: string | null;
  /** Until when callers use it: WeChat's expiry minus the renewal margin (0 once invalidated). */
  expiresAt: number;
  /** Who holds the fetch lease, until when (0: free). */
  leaseOwner: string | null;
  leaseUntil: number;
}

/** WeChat's limits on stable_token's force_refresh (checked by claimForceRefresh). */
export interface ForceRefreshRule {
  /** The quota day of `now` (WeChat counts per day). */
  day: number;
  maxPerDay: number;
  minIntervalMs: number;
}

/**
 * A wx.login code's entry in the code ledger (keyed by the code's SHA-256): which use owns
 * it, and where its one exchange stands. `holder` names one claim (random per claim), so a
 * holder whose lease ran out and was taken over cannot settle the newer claim.
 */
export interface WxCodeClaim {
  appId: string;
  use: string;
  holder: string;
  /** Past this instant a claim that was never settled (its process died) may be taken over. */
  leaseUntil: number;
  /** Past this instant the entry is forgotten (a wx.login code lives 5 minutes). */
  expiresAt: number;
}

/**
 * What claimWxCode found. `claimed`: the caller holds the code now (a new entry, one left
 * `open` by a retryable failure of the same use, or one whose lease ran out). `held`: another
 * claim holds it and its lease runs. `answered`: settled with a sealed answer. `spent`: settled
 * with no answer to repeat. The `use` lets the caller refuse another use of the code.
 */
export type WxCodeState =
  | { status: "claimed" }
  | { status: "held"; use: string; leaseUntil: number }
  | { status: "answered"; use: string; sealed: string }
  | { status: "spent"; use: string }
  | { status: "open"; use: string };

/** How a claim ends: with an answer to repeat (sealed), spent, or open again for the same use. */
export type WxCodeOutcome = { state: "answered"; sealed: string } | { state: "spent" } | { state: "open" };

/**
 * One key of a failed login and the backoff it counts under (see loginFailures.ts): `free`
 * failures, then a lock of `baseMs` doubling per failure up to `maxMs`; failures forgotten
 * `forgetMs` after the last one, once the lock has ended. The key is a SHA-256 hex hash, so
 * the table never lists which usernames fail from which addresses.
 */
export interface LoginFailureRule {
  key: string;
  free: number;
  baseMs: number;
  maxMs: number;
  forgetMs: number;
}

/** What loginFailureState found for some keys. */
export interface LoginFailureState {
  /** The latest lock among the keys, when one runs at `now`; else 0. */
  lockedUntil: number;
  /** The keys with failures not yet forgotten (a success clears only these: no write when there are none). */
  failing: string[];
}

export type PurgeCounts = {
  bindCodes: number;
  loginCodes: number;
  sessions: number;
  wxCodes: number;
  rateWindows: number;
  loginFailures: number;
};

export interface Store extends AppStore {
  /**
   * True when the writes called in one event-loop turn commit together, in call order, in
   * one transaction (SQLite's group commit): a caller may queue a write that depends on
   * another in the same turn instead of waiting for the first to be durable, and no reader
   * sees one without the other. False (or absent: the safe reading for a store that does
   * not say) where each write commits on its own (PostgreSQL).
   */
  readonly commitsTurnTogether?: boolean;

  // --- users and organisations ---
  createUser(input: { name?: string | null; corpId?: string | null }, now: number): Promise<UserRecord>;
  getUser(userId: number): Promise<UserRecord | null>;
  /** Creates the organisation or renames it. */
  upsertCorp(corp: CorpRecord): Promise<void>;
  /** Idempotent. The corp must exist. */
  addCorpMember(corpId: string, userId: number, now: number): Promise<void>;
  listUserCorps(userId: number): Promise<CorpRecord[]>;

  // --- WeChat bindings ---
  findBindingByOpenId(appId: string, openId: string): Promise<BindingRecord | null>;
  findBindingByUser(appId: string, userId: number): Promise<BindingRecord | null>;
  /** The user bound to this unionId in any mini program (oldest binding first), or null. */
  findUserIdByUnionId(unionId: string): Promise<number | null>;
  /**
   * Inserts a binding in one transaction. Race-safe: on a unique conflict it throws
   * LoginError WECHAT_ALREADY_BOUND (openId taken) or ALREADY_BOUND (user already bound in
   * appId); USER_NOT_FOUND when the user does not exist. In the same transaction it clears
   * the unbound mark of (appId, openId) (see wasUnbound).
   */
  createBinding(binding: Omit<BindingRecord, "createdAt">, now: number): Promise<BindingRecord>;
  /**
   * Removes the user's binding in appId and, in the same transaction, marks its
   * (appId, openId) as unbound, voids (marks used) the unused login codes whose origin is
   * that identity and deletes the sessions it opened; codes and sessions of other identities
   * of the user stay. False (and nothing changed) when there was no binding.
   */
  deleteBinding(appId: string, userId: number, now: number): Promise<boolean>;
  /**
   * True while (appId, openId) carries the mark left by deleteBinding: the identity was
   * unbound on purpose, so login must not bind it again through its unionId. createBinding
   * and redeemBindCode (an explicit bind or register) clear the mark.
   */
  wasUnbound(appId: string, openId: string): Promise<boolean>;

  // --- single-use codes (stored by hash) ---
  saveBindCode(hash: string, record: BindCodeRecord, now: number): Promise<void>;
  /** ARGUMENT_INVALID when record.origin names another mini program than record.appId. */
  saveLoginCode(hash: string, record: LoginCodeRecord, now: number): Promise<void>;
  /**
   * THE single-use primitive: marks the code used and returns it, exactly once. Under any
   * number of concurrent callers (in this process or another on the same database) at
   * most one gets `ok` or `expired`; the rest get `invalid`.
   */
  consumeCode(kind: "bind", hash: string, now: number): Promise<ConsumeResult<BindCodeRecord>>;
  consumeCode(kind: "login", hash: string, now: number): Promise<ConsumeResult<LoginCodeRecord>>;
  /**
   * Registration in ONE transaction: consume the bind code, create the user, bind the
   * WeChat identity, and (when corp is given) upsert the corp and add the membership.
   * Two concurrent calls with one code create exactly one user. If the identity was bound
   * meanwhile, throws LoginError WECHAT_ALREADY_BOUND and nothing is written (the code stays
   * unused). A code minted for another mini program (its appId differs from options.appId)
   * answers `invalid` and stays unused, so one instance cannot spend another's codes. With
   * `options.loginCode`, the new user's login code is saved in the same transaction.
   */
  redeemBindCode(hash: string, now: number, options: RedeemOptions): Promise<RedeemResult>;
  /**
   * Login code → session in ONE transaction: consume the code (the same guarded update as
   * consumeCode, so it is single use under any concurrency) and create the session, which
   * inherits the code's origin. With `corpId`, the membership is checked first, inside the
   * transaction: a user outside that organisation gets `not_member` and the code stays
   * unused. Without it the session's corp is the user's first organisation (or null). An
   * expired code is spent (`expired`), whatever the corp.
   */
  redeemLoginCode(hash: string, now: number, session: { tokenHash: string; expiresAt: number; corpId?: string | null }): Promise<LoginRedeemResult>;

  // --- password credentials ---
  findPasswordCredential(realm: string, username: string): Promise<PasswordCredentialRecord | null>;
  findPasswordCredentialByUser(realm: string, userId: number): Promise<PasswordCredentialRecord | null>;
  /**
   * Registration by password in ONE transaction: the user, the credential, the membership
   * of `corp` (upserted) and the first login code. A taken username throws LoginError
   * USERNAME_TAKEN and writes nothing (also under concurrency: the unique rule decides).
   */
  registerPasswordUser(input: PasswordRegistration, now: number): Promise<UserRecord>;
  /**
   * Gives an existing user a password login. Throws USERNAME_TAKEN (the username is another
   * user's), PASSWORD_ALREADY_SET (the user has one in this realm, `fullName` not filled:
   * the caller names it) or USER_NOT_FOUND.
   */
  createPasswordCredential(credential: Omit<PasswordCredentialRecord, "createdAt" | "updatedAt">, now: number): Promise<PasswordCredentialRecord>;
  /**
   * Replaces the user's password hash. With `endSessions`, in the same transaction: every
   * session of the user except the one whose token hash is `keepTokenHash` ends, and the
   * unused login codes this credential issued are voided. False when the user has no
   * credential in the realm.
   */
  updatePasswordHash(realm: string, userId: number, passwordHash: string, now: number, options?: { endSessions?: boolean; keepTokenHash?: string | null }): Promise<boolean>;
  /**
   * Removes the user's password login and, in the same transaction, voids the unused login
   * codes and ends the sessions it issued (origin realm + username), as deleteBinding does.
   * False when there was none.
   */
  deletePasswordCredential(realm: string, userId: number, now: number): Promise<boolean>;

  // --- login sessions (token stored as SHA-256 hash) ---
  createSession(tokenHash: string, record: Omit<SessionRecord, "createdAt">, now: number): Promise<void>;
  /** The live session, or null when unknown or expired. */
  getSession(tokenHash: string, now: number): Promise<SessionRecord | null>;
  /** Ends a session; false when it did not exist. */
  deleteSession(tokenHash: string): Promise<boolean>;

  // --- WeChat session keys (sealed by the vault; opaque to the store) ---
  putSessionKey(appId: string, openId: string, sealed: string, now: number): Promise<void>;
  getSessionKey(appId: string, openId: string): Promise<{ sealed: string; updatedAt: number } | null>;

  // --- phone numbers ---
  /**
   * Stores the user's phone number (replacing any it had). LoginError PHONE_TAKEN (409)
   * when another user holds that number, USER_NOT_FOUND when the user does not exist.
   */
  setUserPhone(userId: number, phone: string, now: number): Promise<void>;
  /** The user holding this phone number, or null. */
  findUserIdByPhone(phone: string): Promise<number | null>;

  // --- WeChat access tokens (sealed by the vault; one row per AppID) ---
  getAccessToken(appId: string): Promise<AccessTokenRecord | null>;
  /**
   * The fetch lease, in one guarded statement: true for exactly one caller (in any process)
   * while the lease is free (or past leaseUntil) AND the stored token is missing or expires
   * at or before `staleAt`; false otherwise (someone fetches, or a fresh token is there).
   */
  claimAccessTokenFetch(appId: string, owner: string, now: number, leaseUntil: number, staleAt: number): Promise<boolean>;
  /**
   * Stores a fetched token and frees the lease if `owner` still holds it. With `sealed`
   * null, only frees the lease (the fetch failed), so waiters need not wait for its expiry.
   */
  saveAccessToken(appId: string, owner: string, sealed: string | null, expiresAt: number): Promise<void>;
  /**
   * Marks the token expired only if the stored one is still `sealed` (the one WeChat
   * rejected): a token another server stored meanwhile is kept. True when it was marked.
   */
  invalidateAccessToken(appId: string, sealed: string): Promise<boolean>;
  /**
   * One force_refresh from WeChat's quota, in one guarded statement: true (and counted) when
   * fewer than maxPerDay were taken on `rule.day` and the last was minIntervalMs ago or more.
   */
  claimForceRefresh(appId: string, now: number, rule: ForceRefreshRule): Promise<boolean>;

  // --- admin reads and actions (the console; not on any login path) ---
  /**
   * One page of users, newest first, with the number matching. Pages are bounded by
   * `limit`; they may scan (the console is a human paging, not a login path).
   */
  listUsers(query: AdminUserQuery, now: number): Promise<{ users: AdminUserView[]; total: number }>;
  /** The user's live sessions, newest first. */
  listUserSessions(userId: number, now: number): Promise<AdminSessionView[]>;
  /** Ends one session of a user by its sessionId; false when there is none. */
  deleteUserSession(userId: number, sessionId: string): Promise<boolean>;


  // --- the wx.login code ledger (codes by hash; answers sealed by the caller) ---
  /**
   * Claims the code for `claim.use`, in one statement: inserts the entry, or takes over one
   * that is expired, or `open` for the same use, or whose lease ran out (for the same use).
   * Otherwise answers the entry's state and changes nothing. Under any number of concurrent
   * callers, in this process or another on the same database, at most one gets `claimed`
   * for a given state of the entry.
   */
  claimWxCode(hash: string, claim: WxCodeClaim, now: number): Promise<WxCodeState>;
  /**
   * Ends the claim `holder` holds: the entry takes the outcome and lives until `expiresAt`.
   * False (and nothing changed) when the claim is no longer that holder's.
   */
  settleWxCode(hash: string, holder: string, outcome: WxCodeOutcome, expiresAt: number): Promise<boolean>;

  // --- rate limits shared by processes (counts only; nothing secret, no durability needed) ---
  /**
   * Counts one hit of `key` in its fixed window, in one statement: a key without a live
   * window (none, or its window ended at or before `now`) starts one of `windowMs`. Returns
   * the window's count, this hit included, and when it ends. Concurrent hits from any
   * process each count once.
   */
  hitRateWindow(key: string, windowMs: number, now: number): Promise<{ count: number; resetAt: number }>;

  // --- failed-login backoff shared by processes (keys by SHA-256; durable: a restart keeps a lock) ---
  /**
   * A read: the latest lock running at `now` among `keys` (1..16 SHA-256 hex hashes), and
   * which of them have failures not yet forgotten. Takes no lock and writes nothing.
   */
  loginFailureState(keys: string[], now: number): Promise<LoginFailureState>;
  /**
   * Counts one failure for each rule's key, each atomically (its row locked while the
   * forget rule and the backoff are applied, loginFailures.ts), so concurrent failures from
   * any process each count once. Returns the latest `lockedUntil` among the keys after this
   * failure (0 when none is locked).
   */
  recordLoginFailure(rules: LoginFailureRule[], now: number): Promise<number>;
  /** Forgets the keys' failures and locks (a successful login). */
  clearLoginFailures(keys: string[]): Promise<void>;

  /**
   * Deletes expired or used codes, expired sessions, ledger entries, rate windows and login
   * failures that are forgotten with their lock ended; returns how many rows went.
   */
  purgeExpired(now: number): Promise<PurgeCounts>;

  /**
   * Resolves when the database answers a read on every connection the store uses; takes no
   * lock and writes nothing. Rejects with a typed store error otherwise (STORE_CLOSED after
   * close, STORE_UNAVAILABLE). For health checks.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}
