// Bounds password guessing per account without handing the guesser a way to lock the owner
// out. Two limits, both taken before argon2 runs:
// - per (account, address): one address guesses at most `loginFailuresPerAccount` times per
//   window; it refuses that address only, so the owner elsewhere still gets in;
// - per account, across the addresses it does not know: a guesser spreading over many
//   addresses is stopped at `loginAttemptsPerAccount`, while an address that logged in to the
//   account recently (remembered in the key-value store) passes it.
// Unknown usernames are counted alike, so a refusal says nothing about whether one exists.
import type { Config } from "../../platform/config";
import type { KeyValueStore } from "../../platform/kv";
import type { Limiter, LimiterFactory } from "../../platform/rate-limits";

/** The address of a login that came without one (an internal caller): all such share a count. */
const NO_ADDRESS = "unknown";

/** One key per (account, address) pair, unambiguous whatever either contains. */
const pairKey = (account: string, address: string) => JSON.stringify([account, address]);

/** Where an address that logged in to an account is remembered. */
const knownKey = (pair: string) => `login-known:${pair}`;

export class LoginGuard {
  private readonly fromAddress: Limiter;
  private readonly fromNewAddresses: Limiter;
  private readonly knownSeconds: number;

  constructor(
    config: Pick<Config, "rateLimits">,
    limits: LimiterFactory,
    private readonly kv: KeyValueStore,
  ) {
    const rates = config.rateLimits;
    this.fromAddress = limits("login-account-ip", {
      points: rates.loginFailuresPerAccount,
      durationSeconds: rates.loginLockoutSeconds,
      describes: "login attempts for this account from your address",
    });
    this.fromNewAddresses = limits("login-account", {
      points: rates.loginAttemptsPerAccount,
      durationSeconds: rates.loginLockoutSeconds,
      describes: "login attempts for this account from addresses it has not signed in from",
    });
    this.knownSeconds = rates.loginKnownAddressSeconds;
  }

  /**
   * Takes the attempt's points, or refuses it RATE_LIMITED. Every attempt counts before the
   * password is checked, so concurrent guesses are bounded too.
   */
  async admit(account: string, address: string | null): Promise<void> {
    const pair = pairKey(account, address ?? NO_ADDRESS);
    await this.fromAddress.consume(pair);
    if (await this.isKnown(pair)) return;
    await this.fromNewAddresses.consume(account);
  }

  /**
   * The right password: that address's count starts again and it is known to the account from
   * now on. The account-wide count is not given back, or the owner's logins would renew a
   * distributed guesser's budget.
   */
  async succeeded(account: string, address: string | null): Promise<void> {
    const pair = pairKey(account, address ?? NO_ADDRESS);
    await this.fromAddress.reset(pair);
    await this.kv.set([{ key: knownKey(pair), value: "1", ttlSeconds: this.knownSeconds }]);
  }

  private async isKnown(pair: string): Promise<boolean> {
    const [known] = await this.kv.get([knownKey(pair)]);
    return known !== null && known !== undefined;
  }
}
