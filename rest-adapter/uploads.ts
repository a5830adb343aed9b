// Who may send a file to a legacy route, settled before a byte of it is written: the caller's
// session, checked the way every authenticated route's is (by the gateway), and a free upload
// slot. The app sends its token in the query string or as a field before the file; a file that
// arrives first is refused unread, or any stranger could fill the disk before being told no.
import type { FastifyRequest } from "fastify";
import { graphql } from "../generated/legacy";
import { unauthenticated, type AppError } from "../lib/errors";
import { UploadSlots } from "../media/upload-slots";
import type { Config } from "../platform/config";
import { Deadline } from "../platform/deadline";
import type { Logger } from "../platform/logger";
import { describeTokenFailure, TokenVerifier } from "../platform/sessions";
import { failure, failureFromError, failureFromGraphQL, type Envelope } from "./envelope";
import { GatewayUnavailableError, type GatewayExecutor } from "./gateway-client";
import { operation } from "./routes";

const Session = graphql(`
  query LegacySession {
    me {
      id
    }
  }
`);

/** An upload refused before its file was read, with the envelope the app is answered. */
export class UploadRefused extends Error {
  override name = "UploadRefused";

  constructor(readonly envelope: Envelope) {
    super(envelope.status_msg);
  }
}

export class LegacyUploadAdmission {
  private readonly slots: UploadSlots;
  private readonly tokens: TokenVerifier;

  constructor(
    private readonly config: Config,
    private readonly gateway: GatewayExecutor,
  ) {
    this.tokens = new TokenVerifier(config);
    this.slots = new UploadSlots({ perUser: config.media.uploadsPerUser, perAddress: config.media.uploadsPerAddress });
  }

  /**
   * Admits the file `request` is about to send, or throws UploadRefused; an admitted upload's
   * slot is given back by the returned function, once the exchange is over.
   */
  async admit(request: FastifyRequest, token: string | undefined): Promise<() => void> {
    if (token === undefined) throw refused(unauthenticated("token is required (in the query string, or a field before the file)"));
    // A forged or expired token is told from its signature, without asking the gateway.
    const signed = this.tokens.verify(token);
    if (!signed.ok) throw refused(unauthenticated(describeTokenFailure(signed.reason)));
    const userId = await this.sessionOwner(request, token);
    const slot = this.slots.take(userId, request.ip);
    if ("refusal" in slot) throw refused(slot.refusal);
    return slot.release;
  }

  /** The user whose live session `token` is; UploadRefused otherwise (or when the gateway cannot tell). */
  private async sessionOwner(request: FastifyRequest, token: string): Promise<number> {
    let result;
    try {
      result = await this.gateway.execute(operation(Session, {}), {
        token,
        requestId: request.id,
        log: request.log as Logger,
        clientIp: request.ip,
        deadline: new Deadline(this.config.requestTimeoutMs),
      });
    } catch (error) {
      if (!(error instanceof GatewayUnavailableError)) throw error;
      throw new UploadRefused(failure("UNAVAILABLE", "service temporarily unavailable, please retry"));
    }
    if (result.errors.length > 0) throw new UploadRefused(failureFromGraphQL(result.errors));
    // A live session always has its user; none means the account is gone.
    if (!result.data?.me) throw refused(unauthenticated());
    return Number(result.data.me.id);
  }
}

const refused = (error: AppError) => new UploadRefused(failureFromError(error)!);
