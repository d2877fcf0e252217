// Per-connection message rate limiting. Time is passed in, so the logic is tested without clocks.

/** Classic token bucket: `capacity` tokens, refilled continuously at `ratePerSecond`. */
export class TokenBucket {
  private tokens: number;
  private lastRefillMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    nowMs: number,
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError('"ratePerSecond" must be > 0');
    if (!(capacity >= 1)) throw new RangeError('"capacity" must be >= 1');
    this.tokens = capacity;
    this.lastRefillMs = nowMs;
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    const elapsedMs = Math.max(0, nowMs - this.lastRefillMs);
    this.lastRefillMs = nowMs;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsedMs * this.ratePerSecond) / 1000);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export type RateDecision = 'ok' | 'limited' | 'abuse';

/** Sustained rate, as a multiple of the allowed rate, at which a connection counts as abusive. */
export const ABUSE_FACTOR = 10;

/**
 * Two buckets per connection: the allowed rate (over it a message is dropped), and ten times that
 * rate with ten times the burst (over it the connection is closed). A flood therefore costs the
 * server at most `10 × burst` parsed-and-dropped frames before the socket goes.
 */
export class RateLimiter {
  private readonly allowed: TokenBucket;
  private readonly abuse: TokenBucket;
  private lastLimitedNoticeMs = -Infinity;

  constructor(messagesPerSecond: number, burst: number, nowMs: number) {
    this.allowed = new TokenBucket(messagesPerSecond, burst, nowMs);
    this.abuse = new TokenBucket(messagesPerSecond * ABUSE_FACTOR, burst * ABUSE_FACTOR, nowMs);
  }

  check(nowMs: number): RateDecision {
    if (!this.abuse.take(nowMs)) return 'abuse';
    return this.allowed.take(nowMs) ? 'ok' : 'limited';
  }

  /** At most one `rate-limited` reply per second, so the limit cannot be used for amplification. */
  shouldNotify(nowMs: number): boolean {
    if (nowMs - this.lastLimitedNoticeMs < 1000) return false;
    this.lastLimitedNoticeMs = nowMs;
    return true;
  }
}
